//! Parsing the API's JSON answer. Pure: bytes in, token or error out (fuzzed on its own).
//!
//! Wire format (`shared/spec/accesstoken-api.zh.md`):
//! `{"err": 0, "msg": "请求成功", "data": {"accessToken": "27_…"}}`; `err != 0` is a failure.

use serde_json::Value;

use crate::error::{Error, sanitize};
use crate::token::AccessToken;

/// Upstream `msg` is quoted in messages up to this many characters.
const MAX_MSG_CHARS: usize = 200;

/// Parses a 2xx body into a token, or the error it reports.
pub fn parse_token_response(body: &[u8]) -> Result<AccessToken, Error> {
    // Into a `Value` first, then only an object is accepted: a derived struct would also take a
    // JSON array as a list of fields, and its type errors quote the input (a token, maybe).
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        // A syntax error's message names a line/column and a category, never the input text.
        Error::bad_response(format!("response is not the expected JSON object: {e}"))
    })?;
    let Value::Object(mut envelope) = value else {
        return Err(Error::bad_response(format!(
            "response is {}, not the expected JSON object",
            kind(&value)
        )));
    };
    let err = match envelope.get("err") {
        Some(Value::Number(n)) => n.as_i64().ok_or_else(|| {
            Error::bad_response(format!("response field \"err\" is {n}, not an integer"))
        })?,
        Some(other) => {
            return Err(Error::bad_response(format!(
                "response field \"err\" is {}, not an integer",
                kind(other)
            )));
        }
        None => return Err(Error::bad_response("response has no \"err\" field")),
    };
    if err != 0 {
        let msg = match envelope.get("msg") {
            Some(Value::String(s)) if !s.is_empty() => sanitize(s, MAX_MSG_CHARS),
            _ => "(no msg)".to_owned(),
        };
        return Err(Error::api(err, format!("API error {err}: {msg}")));
    }
    let Some(Value::Object(mut data)) = envelope.remove("data") else {
        return Err(Error::bad_response(
            "response has err=0 but \"data\" is not an object",
        ));
    };
    // Moved out, not copied: the parsed token is the only copy left (see `AccessToken`).
    let token = match data.remove("accessToken") {
        // Wrapped at once, so that a rejected token is zeroed too.
        Some(Value::String(s)) => AccessToken::new(s),
        Some(other) => {
            return Err(Error::bad_response(format!(
                "\"data.accessToken\" is {}, not a string",
                kind(&other)
            )));
        }
        None => {
            return Err(Error::bad_response(
                "response has err=0 but no \"data.accessToken\"",
            ));
        }
    };
    if token.is_empty() {
        return Err(Error::bad_response("\"data.accessToken\" is empty"));
    }
    if let Some(pos) = token.as_str().chars().position(char::is_control) {
        // Say where, never what: the rest of the string is the secret.
        return Err(Error::bad_response(format!(
            "\"data.accessToken\" contains a control character at character {pos}"
        )));
    }
    Ok(token)
}

/// The upstream `msg` of a non-2xx JSON body, if it has one (for HTTP status messages).
pub fn error_body_msg(body: &[u8]) -> Option<String> {
    match serde_json::from_slice::<Value>(body).ok()?.get("msg")? {
        Value::String(s) if !s.is_empty() => Some(sanitize(s, MAX_MSG_CHARS)),
        _ => None,
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Status;

    const SAMPLE: &str =
        r#"{"err":0,"data":{"accessToken":"27_t3e8Pqc7RzC1V8UB3r-SC9G"},"msg":"请求成功"}"#;

    #[test]
    fn only_a_json_object_is_an_answer_and_the_body_is_never_quoted() {
        // Found by fuzzing: arrays used to pass as a list of fields, and a JSON string body was
        // quoted whole in the message (it may be a token).
        for body in [
            r#"[0,null,{"accessToken":"27_array_form"}]"#,
            "[4,4,4]",
            r#""27_SECRET_token_as_a_json_string""#,
            "42",
            "null",
        ] {
            let e = parse_token_response(body.as_bytes()).unwrap_err();
            assert_eq!(e.status(), Status::BadResponse, "{body}: {e}");
            assert!(!e.message().contains("27_"), "{body}: {e}");
            assert!(e.message().contains("not the expected JSON object"), "{e}");
        }
    }

    #[test]
    fn documented_sample_parses() {
        let t = parse_token_response(SAMPLE.as_bytes()).unwrap();
        assert_eq!(t.as_str(), "27_t3e8Pqc7RzC1V8UB3r-SC9G");
    }

    #[test]
    fn api_error_keeps_err_and_chinese_msg() {
        let e = parse_token_response(r#"{"err":40013,"msg":"项目不存在","data":null}"#.as_bytes())
            .unwrap_err();
        assert_eq!(e.status(), Status::Api);
        assert_eq!(e.api_err(), 40013);
        assert_eq!(e.message(), "API error 40013: 项目不存在");
        let e = parse_token_response(br#"{"err":-1}"#).unwrap_err();
        assert_eq!((e.status(), e.api_err()), (Status::Api, -1));
        assert!(e.message().contains("(no msg)"));
    }

    #[test]
    fn malformed_answers_are_bad_response() {
        let cases: &[(&str, &str)] = &[
            (
                r#"{"err":0,"data":{"accessToken":"#,
                "not the expected JSON",
            ),
            ("<html>gateway</html>", "not the expected JSON"),
            ("[]", "not the expected JSON"),
            ("", "not the expected JSON"),
            (r#"{"data":{"accessToken":"x"}}"#, "no \"err\""),
            (r#"{"err":"0","data":{"accessToken":"x"}}"#, "a string"),
            (
                r#"{"err":0.5,"data":{"accessToken":"x"}}"#,
                "0.5, not an integer",
            ),
            (r#"{"err":0,"data":null}"#, "not an object"),
            (r#"{"err":0}"#, "not an object"),
            (r#"{"err":0,"data":{}}"#, "no \"data.accessToken\""),
            (r#"{"err":0,"data":{"accessToken":""}}"#, "is empty"),
            (r#"{"err":0,"data":{"accessToken":12345}}"#, "a number"),
            (r#"{"err":0,"data":{"accessToken":null}}"#, "null"),
            (
                r#"{"err":0,"data":{"accessToken":"ab\u0001SECRET"}}"#,
                "character 2",
            ),
            (
                r#"{"err":0,"data":{"accessToken":"ab\u0000SECRET"}}"#,
                "control",
            ),
            (
                r#"{"err":0,"data":{"accessToken":"ab\nSECRET"}}"#,
                "control",
            ),
        ];
        for (body, reason) in cases {
            let e = parse_token_response(body.as_bytes()).unwrap_err();
            assert_eq!(e.status(), Status::BadResponse, "{body}");
            assert!(e.message().contains(reason), "{body}: {}", e.message());
            assert!(!e.message().contains("SECRET"), "{}", e.message());
        }
        let e = parse_token_response(b"\xff\xfe{").unwrap_err();
        assert_eq!(e.status(), Status::BadResponse);
    }

    #[test]
    fn long_tokens_and_extra_fields_are_fine() {
        let long = "A".repeat(4096);
        let body = format!(
            r#"{{"err":0,"extra":[1,2],"data":{{"accessToken":"{long}","expiresIn":7200}}}}"#
        );
        assert_eq!(parse_token_response(body.as_bytes()).unwrap().len(), 4096);
    }

    #[test]
    fn error_body_msg_extracts_msg() {
        assert_eq!(
            error_body_msg(r#"{"err":404,"msg":"项目不存在"}"#.as_bytes()).as_deref(),
            Some("项目不存在")
        );
        assert_eq!(error_body_msg(b"<html>"), None);
    }
}
