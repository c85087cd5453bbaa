//! Public-key-certificate mode (公钥证书模式): certificate serial numbers and the
//! Alipay public key carried in the Alipay certificate.
//!
//! An Alipay "cert SN" is not the X.509 serial: it is the lowercase hex MD5 of the
//! issuer DN string followed by the decimal serial number. The DN string is the one
//! Java's `X500Principal.getName()` (RFC 2253) and Go's `pkix.Name.String()` give:
//! RDNs in reverse order, `TYPE=value` joined with `,`. The root SN is the SNs of the
//! root bundle's RSA-signed certificates (sha1WithRSA / sha256WithRSA, OIDs under
//! 1.2.840.113549.1.1) joined with `_`.

use md5::{Digest, Md5};
use x509_cert::Certificate;
use x509_cert::der::asn1::{Ia5StringRef, PrintableStringRef, TeletexStringRef, Utf8StringRef};
use x509_cert::der::{Decode, Encode, Tag, Tagged};
use x509_cert::name::Name;

use super::keys::{AlipayPublicKey, decode_key_text};

#[derive(Debug, thiserror::Error)]
pub enum CertError {
    #[error("the certificate could not be parsed: {0}")]
    Parse(String),
    #[error("the root bundle holds no RSA-signed certificate")]
    NoRsaRoot,
    #[error("the certificate's key is not a usable RSA key: {0}")]
    Key(String),
}

/// RSA PKCS#1 signature algorithms (`1.2.840.113549.1.1.*`), e.g. sha256WithRSA.
const RSA_SIGNATURE_ARC: &str = "1.2.840.113549.1.1.";

/// The Alipay public-key certificate as the client uses it.
#[derive(Debug, Clone)]
pub struct AlipayCert {
    pub sn: String,
    pub public_key: AlipayPublicKey,
}

impl AlipayCert {
    /// Loads the first certificate of a PEM file (`alipayCertPublicKey_RSA2.crt`).
    pub fn from_pem(pem: &str) -> Result<Self, CertError> {
        let cert = first_cert(pem)?;
        let spki = cert
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(|e| CertError::Parse(e.to_string()))?;
        Ok(Self {
            sn: sn_of(&cert)?,
            public_key: AlipayPublicKey::from_spki_der(&spki)
                .map_err(|e| CertError::Key(e.to_string()))?,
        })
    }
}

/// SN of the first certificate in a PEM file (app cert or Alipay cert).
pub fn cert_sn(pem: &str) -> Result<String, CertError> {
    sn_of(&first_cert(pem)?)
}

/// SN of a DER certificate.
pub fn cert_sn_der(der: &[u8]) -> Result<String, CertError> {
    sn_of(&Certificate::from_der(der).map_err(|e| CertError::Parse(e.to_string()))?)
}

/// `alipay_root_cert_sn` of a root bundle (`alipayRootCert.crt`).
pub fn root_cert_sn(pem_bundle: &str) -> Result<String, CertError> {
    let certs = all_certs(pem_bundle)?;
    let sns = certs
        .iter()
        .filter(|c| {
            c.signature_algorithm
                .oid
                .to_string()
                .starts_with(RSA_SIGNATURE_ARC)
        })
        .map(sn_of)
        .collect::<Result<Vec<_>, _>>()?;
    if sns.is_empty() {
        return Err(CertError::NoRsaRoot);
    }
    Ok(sns.join("_"))
}

const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
const END: &str = "-----END CERTIFICATE-----";

fn first_cert(pem: &str) -> Result<Certificate, CertError> {
    all_certs(pem)?
        .into_iter()
        .next()
        .ok_or_else(|| CertError::Parse("no PEM certificate".into()))
}

/// Every PEM certificate block in `pem`, whatever lies between the blocks.
fn all_certs(pem: &str) -> Result<Vec<Certificate>, CertError> {
    let mut certs = Vec::new();
    let mut rest = pem;
    while let Some(start) = rest.find(BEGIN) {
        let end = rest[start..]
            .find(END)
            .ok_or_else(|| CertError::Parse("unterminated PEM certificate".into()))?
            + start
            + END.len();
        // Alipay's files wrap base64 at 76 columns, which strict RFC 7468 decoders
        // refuse, so the block is decoded leniently and parsed as DER.
        let der = decode_key_text(&rest[start..end])
            .map_err(|_| CertError::Parse("bad base64 in PEM certificate".into()))?;
        certs.push(Certificate::from_der(&der).map_err(|e| CertError::Parse(e.to_string()))?);
        rest = &rest[end..];
    }
    if certs.is_empty() {
        return Err(CertError::Parse("no PEM certificate".into()));
    }
    Ok(certs)
}

fn sn_of(cert: &Certificate) -> Result<String, CertError> {
    let issuer = dn_string(&cert.tbs_certificate.issuer)?;
    let serial = decimal(cert.tbs_certificate.serial_number.as_bytes());
    let digest = Md5::digest(format!("{issuer}{serial}").as_bytes());
    // hex::encode keeps leading zeros, so the SN is always 32 characters.
    Ok(hex::encode(digest))
}

/// RFC 2253 form: last RDN first, attributes of one RDN joined with `+`.
pub fn dn_string(name: &Name) -> Result<String, CertError> {
    let mut rdns = Vec::new();
    for rdn in name.0.iter().rev() {
        let mut atvs = Vec::new();
        for atv in rdn.0.iter() {
            let oid = atv.oid.to_string();
            let value = match attribute_string(&atv.value) {
                Some(s) => escape_rfc2253(&s),
                // Java and Go print values they cannot show as text as `#` + DER hex.
                None => format!(
                    "#{}",
                    hex::encode(
                        atv.value
                            .to_der()
                            .map_err(|e| CertError::Parse(e.to_string()))?
                    )
                ),
            };
            let ty = short_name(&oid).map_or(oid.clone(), str::to_owned);
            atvs.push(format!("{ty}={value}"));
        }
        rdns.push(atvs.join("+"));
    }
    Ok(rdns.join(","))
}

fn short_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "STREET",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        _ => return None,
    })
}

fn attribute_string(value: &x509_cert::attr::AttributeValue) -> Option<String> {
    let s = match value.tag() {
        Tag::Utf8String => value.decode_as::<Utf8StringRef<'_>>().ok()?.to_string(),
        Tag::PrintableString => value
            .decode_as::<PrintableStringRef<'_>>()
            .ok()?
            .to_string(),
        Tag::Ia5String => value.decode_as::<Ia5StringRef<'_>>().ok()?.to_string(),
        Tag::TeletexString => value.decode_as::<TeletexStringRef<'_>>().ok()?.to_string(),
        _ => return None,
    };
    Some(s)
}

fn escape_rfc2253(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let last = s.chars().count().saturating_sub(1);
    for (i, c) in s.chars().enumerate() {
        let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';')
            || (i == 0 && (c == '#' || c == ' '))
            || (i == last && c == ' ');
        if special {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Big-endian unsigned bytes → decimal digits.
fn decimal(be: &[u8]) -> String {
    let mut n: Vec<u8> = be.iter().copied().skip_while(|b| *b == 0).collect();
    if n.is_empty() {
        return "0".into();
    }
    let mut digits = Vec::new();
    while !n.is_empty() {
        let mut rem = 0u32;
        let mut next = Vec::with_capacity(n.len());
        for b in &n {
            let cur = (rem << 8) | u32::from(*b);
            let q = cur / 10;
            rem = cur % 10;
            if !(next.is_empty() && q == 0) {
                next.push(
                    u8::try_from(q).expect("a quotient of (r<<8|b)/10 with r<10 fits in a byte"),
                );
            }
        }
        digits.push(char::from(
            b'0' + u8::try_from(rem).expect("a remainder of /10 is a digit"),
        ));
        n = next;
    }
    digits.iter().rev().collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    // Certificates and expected SNs from Alipay's Node SDK, alipay/alipay-sdk-nodejs-all:
    // test/fixtures/appCertPublicKey_2021001161683774.crt,
    // test/fixtures/alipayCertPublicKey_RSA2.crt and test/antcertutil.test.ts
    // (appCertSnVal, alipayPublicCertSnVal, rootCertSnVal, publicKeyVal). The root
    // bundle is Alipay's production alipayRootCert.crt (four roots: SM2, RSA R1,
    // ECDSA E1, iTrusChina sha1WithRSA), as published in many public configurations;
    // the SDK test's expected root SN is the value every public configuration carries.
    const APP_CERT: &str = include_str!("testdata/appCertPublicKey_2021001161683774.crt");
    const ALIPAY_CERT: &str = include_str!("testdata/alipayCertPublicKey_RSA2.crt");
    const ROOT_BUNDLE: &str = include_str!("testdata/alipayRootCert.crt");

    #[test]
    fn app_cert_sn_known_answer() {
        assert_eq!(
            cert_sn(APP_CERT).unwrap(),
            "866efef280dec9137a87d047ac446315"
        );
    }

    #[test]
    fn alipay_cert_sn_and_key_known_answer() {
        let cert = AlipayCert::from_pem(ALIPAY_CERT).unwrap();
        assert_eq!(cert.sn, "7513daaaa48aa3ba2e4018d84402479c");
        let published = AlipayPublicKey::from_text("MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAhoVesfcGvUv1XvUndmX0rmSZ/2posJBCooySbSVFpV79RtHMzrVz2aKkC3WvOXeT5iNeQK4mK8gp3vNkWrHTkQGx5BcmkeO1WS384CQde7dAS0gmxeFs5bs+cCQqV2A2c2R9/5rJMtFtp1Ot/rIiMBUn6Ei0UoztM7AneavqQEzSwYlCKNhPFFtHCiz7u4O5R9CIyvUmYr+zpem2HXBN9ygPAZ0aXBQipGbc45+G07ZCNsmY4hV/Igya1aBf+Ye8p10Ew8uBBri0sIknhSC2LqKKy2IH1fO6q1d1jhN240QRHvbpRNv60kAfZsEulBASBrCMBi49NiJyr5nre7SNywIDAQAB").unwrap();
        assert_eq!(cert.public_key, published);
    }

    #[test]
    fn root_cert_sn_known_answer() {
        assert_eq!(
            root_cert_sn(ROOT_BUNDLE).unwrap(),
            "687b59193f3f462dd5336e5abf83c5d8_02941eef3187dddf3d3b83462e1dfcf6"
        );
    }

    #[test]
    fn issuer_dn_is_rfc2253_order() {
        let cert = first_cert(APP_CERT).unwrap();
        assert_eq!(
            dn_string(&cert.tbs_certificate.issuer).unwrap(),
            "CN=Ant Financial Certification Authority Class 1 R1,OU=Certification Authority,O=Ant Financial,C=CN"
        );
    }

    #[test]
    fn decimal_and_escaping() {
        assert_eq!(decimal(&[]), "0");
        assert_eq!(decimal(&[0, 0x01, 0x00]), "256");
        assert_eq!(decimal(&[0xff; 8]), u64::MAX.to_string());
        assert_eq!(escape_rfc2253("#a, b+c "), "\\#a\\, b\\+c\\ ");
    }

    #[test]
    fn garbage_is_refused() {
        assert!(cert_sn("not a cert").is_err());
        assert!(root_cert_sn("").is_err());
        assert!(cert_sn_der(b"\x30\x00").is_err());
    }
}
