//! HTTPS mode: a throwaway CA and a leaf certificate for the loopback names, made with rcgen.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

fn other(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

/// Writes `ca.pem`, `server.pem` and `server.key` into `dir`: a new CA, and a leaf it signed for
/// `names` (DNS names or IP addresses). Returns the path of `ca.pem`.
pub fn generate_ca_and_leaf(dir: &Path, names: &[&str]) -> io::Result<PathBuf> {
    generate_into(dir, names, false)
}

fn generate_into(dir: &Path, names: &[&str], expired: bool) -> io::Result<PathBuf> {
    let (ca_pem, leaf_pem, key_pem) = generate(names, expired)?;
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("ca.pem"), ca_pem)?;
    std::fs::write(dir.join("server.pem"), leaf_pem)?;
    std::fs::write(dir.join("server.key"), key_pem)?;
    Ok(dir.join("ca.pem"))
}

fn generate(names: &[&str], expired: bool) -> io::Result<(String, String, String)> {
    let ca_key = KeyPair::generate().map_err(other)?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(other)?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "ky-sandbox throwaway CA");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params.self_signed(&ca_key).map_err(other)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let leaf_key = KeyPair::generate().map_err(other)?;
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let mut leaf_params = CertificateParams::new(names).map_err(other)?;
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "ky-sandbox");
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    if expired {
        leaf_params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        leaf_params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    }
    let leaf = leaf_params.signed_by(&leaf_key, &issuer).map_err(other)?;
    Ok((ca_cert.pem(), leaf.pem(), leaf_key.serialize_pem()))
}

/// Which server certificate the HTTPS mode presents (the broken ones are for TLS fault tests).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Leaf {
    /// Valid for `localhost`, `127.0.0.1` and `::1`.
    #[default]
    Valid,
    /// Same names, but expired in 2021.
    Expired,
    /// Valid dates, but only for `wrong-name.invalid`.
    WrongName,
}

/// A TLS acceptor presenting `leaf`, with its CA written to `dir/ca.pem`.
pub(crate) fn acceptor(dir: &Path, leaf: Leaf) -> io::Result<(tokio_rustls::TlsAcceptor, PathBuf)> {
    let ca_path = match leaf {
        Leaf::Valid => generate_into(dir, &["localhost", "127.0.0.1", "::1"], false)?,
        Leaf::Expired => generate_into(dir, &["localhost", "127.0.0.1", "::1"], true)?,
        Leaf::WrongName => generate_into(dir, &["wrong-name.invalid"], false)?,
    };
    let leaf_pem = std::fs::read(dir.join("server.pem"))?;
    let key_pem = std::fs::read(dir.join("server.key"))?;
    let leaf = pem_der(&leaf_pem, "CERTIFICATE")?;
    let key = pem_der(&key_pem, "PRIVATE KEY")?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(other)?
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(leaf)],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key)),
        )
        .map_err(other)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok((tokio_rustls::TlsAcceptor::from(Arc::new(config)), ca_path))
}

fn pem_der(pem: &[u8], label: &str) -> io::Result<Vec<u8>> {
    use rustls::pki_types::pem::PemObject;
    let begin = format!("-----BEGIN {label}-----");
    let text = std::str::from_utf8(pem).map_err(other)?;
    if !text.contains(&begin) {
        return Err(other(format!("no {label} in PEM")));
    }
    match label {
        "CERTIFICATE" => CertificateDer::from_pem_slice(pem)
            .map(|c| c.as_ref().to_vec())
            .map_err(other),
        _ => PrivatePkcs8KeyDer::from_pem_slice(pem)
            .map(|k| k.secret_pkcs8_der().to_vec())
            .map_err(other),
    }
}
