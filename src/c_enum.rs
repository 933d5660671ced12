//! `c_enum!`: one table per C enum. Each row gives a variant its Rust name, its number, its C name,
//! a short text and its documentation; from that one row come the Rust `#[repr(i32)]` enum (the
//! very type the C functions return), `from_code`, the C names and texts as static C strings, and
//! the C declaration that `tests/header.rs` writes into `include/ky_access_token.h`. Modelled on
//! rustls-ffi's `u32_enum_builder!`.
//!
//! cbindgen cannot see inside a macro, so the header's enum is rendered from [`CEnumTable`] by the
//! header test (which hands it to cbindgen as `after_includes`); the C type name is a Rust type
//! alias in `src/ffi` that cbindgen is told to leave alone.

use std::ffi::CStr;

/// What the header needs to declare a C enum; filled by `c_enum!`.
#[doc(hidden)]
#[derive(Debug)]
pub struct CEnumTable {
    /// The C type, e.g. `ky_status`.
    pub c_type: &'static str,
    /// Doc comment lines of the type (each with the leading space `///` leaves).
    pub doc: &'static [&'static str],
    /// `(C name, value, doc comment lines)` in declaration order.
    pub variants: &'static [(&'static str, i32, &'static [&'static str])],
}

impl CEnumTable {
    /// The C declaration in cbindgen's style for a `#[repr(i32)]` enum: a fixed `int32_t`
    /// underlying type in C++ and C23, a plain `int32_t` typedef in older C.
    pub fn c_declaration(&self) -> String {
        let mut out = String::new();
        doc_block(&mut out, "", self.doc);
        let guard = "defined(__cplusplus) || __STDC_VERSION__ >= 202311L";
        out.push_str(&format!(
            "enum {ty}\n#if {guard}\n  : int32_t\n#endif // {guard}\n {{\n",
            ty = self.c_type
        ));
        for (name, value, doc) in self.variants {
            doc_block(&mut out, "  ", doc);
            out.push_str(&format!("  {name} = {value},\n"));
        }
        out.push_str(&format!(
            "}};\n#ifndef __cplusplus\n#if __STDC_VERSION__ >= 202311L\n\
             typedef enum {ty} {ty};\n#else\ntypedef int32_t {ty};\n\
             #endif // __STDC_VERSION__ >= 202311L\n#endif // __cplusplus\n",
            ty = self.c_type
        ));
        out
    }
}

fn doc_block(out: &mut String, indent: &str, lines: &[&str]) {
    if lines.is_empty() {
        return;
    }
    out.push_str(indent);
    out.push_str("/**\n");
    for line in lines {
        let line = line.strip_prefix(' ').unwrap_or(line);
        if line.is_empty() {
            out.push_str(&format!("{indent} *\n"));
        } else {
            out.push_str(&format!("{indent} * {line}\n"));
        }
    }
    out.push_str(indent);
    out.push_str(" */\n");
}

/// `concat!(name, "\0")` as a `&CStr`, checked at compile time.
pub(crate) const fn c_str(with_nul: &'static str) -> &'static CStr {
    match CStr::from_bytes_with_nul(with_nul.as_bytes()) {
        Ok(s) => s,
        Err(_) => panic!("a c_enum! name or text contains a NUL"),
    }
}

/// Declares a C enum from one table; see the module documentation.
///
/// ```text
/// c_enum! {
///     /// Doc of the type (Rust and C).
///     pub enum Status as ky_status {
///         /// Doc of the variant (Rust and C).
///         Ok = 0 => KY_OK, "success";
///     }
/// }
/// ```
macro_rules! c_enum {
    (
        $(#[doc = $doc:literal])*
        pub enum $name:ident as $c_type:ident {
            $(
                $(#[doc = $vdoc:literal])*
                $variant:ident = $value:literal => $c_name:ident, $text:literal;
            )*
        }
    ) => {
        $(#[doc = $doc])*
        #[repr(i32)]
        #[non_exhaustive]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $(
                $(#[doc = $vdoc])*
                $variant = $value,
            )*
        }

        #[allow(dead_code)]
        impl $name {
            /// Every value, in declaration (numeric) order.
            pub const ALL: [$name; [$(stringify!($variant)),*].len()] = [$($name::$variant),*];

            $(
                #[doc = concat!("[`", stringify!($name), "::", stringify!($variant),
                                "`] under its C name.")]
                pub const $c_name: $name = $name::$variant;
            )*

            #[doc(hidden)]
            pub const C_TABLE: $crate::c_enum::CEnumTable = $crate::c_enum::CEnumTable {
                c_type: stringify!($c_type),
                doc: &[$($doc),*],
                variants: &[$((stringify!($c_name), $value, &[$($vdoc),*])),*],
            };

            /// The value with this C number, if there is one.
            pub const fn from_code(code: i32) -> Option<$name> {
                match code {
                    $($value => Some($name::$variant),)*
                    _ => None,
                }
            }

            /// The C number (never renumbered).
            pub const fn code(self) -> i32 {
                self as i32
            }

            /// The C constant's name, e.g. `"KY_ERR_NETWORK"`.
            pub fn name(self) -> &'static str {
                match self {
                    $($name::$variant => stringify!($c_name),)*
                }
            }

            /// The short English text, e.g. `"deadline exceeded"`.
            pub fn description(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }

            pub(crate) fn c_name(self) -> &'static ::std::ffi::CStr {
                match self {
                    $($name::$variant =>
                        $crate::c_enum::c_str(concat!(stringify!($c_name), "\0")),)*
                }
            }

            pub(crate) fn c_description(self) -> &'static ::std::ffi::CStr {
                match self {
                    $($name::$variant => $crate::c_enum::c_str(concat!($text, "\0")),)*
                }
            }
        }
    };
}
pub(crate) use c_enum;

#[cfg(test)]
mod tests {
    c_enum! {
        /// A test enum.
        pub enum Colour as ky_colour {
            /// The first.
            ///
            /// Two paragraphs.
            Red = 0 => KY_RED, "red";
            Blue = 7 => KY_BLUE, "blue";
        }
    }

    #[test]
    fn one_row_gives_every_form() {
        assert_eq!(Colour::ALL, [Colour::Red, Colour::Blue]);
        assert_eq!(Colour::from_code(7), Some(Colour::KY_BLUE));
        assert_eq!(Colour::from_code(1), None);
        assert_eq!(Colour::Blue.code(), 7);
        assert_eq!(Colour::Blue.name(), "KY_BLUE");
        assert_eq!(Colour::Red.description(), "red");
        assert_eq!(Colour::Red.c_name(), c"KY_RED");
        assert_eq!(Colour::Blue.c_description(), c"blue");
        assert_eq!(
            Colour::C_TABLE.c_declaration(),
            "/**\n * A test enum.\n */\nenum ky_colour\n\
             #if defined(__cplusplus) || __STDC_VERSION__ >= 202311L\n  : int32_t\n\
             #endif // defined(__cplusplus) || __STDC_VERSION__ >= 202311L\n {\n\
             \x20 /**\n   * The first.\n   *\n   * Two paragraphs.\n   */\n  KY_RED = 0,\n\
             \x20 KY_BLUE = 7,\n};\n#ifndef __cplusplus\n\
             #if __STDC_VERSION__ >= 202311L\ntypedef enum ky_colour ky_colour;\n#else\n\
             typedef int32_t ky_colour;\n#endif // __STDC_VERSION__ >= 202311L\n#endif // __cplusplus\n"
        );
    }
}
