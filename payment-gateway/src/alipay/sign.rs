//! The strings Alipay signs: request parameters, notify parameters.
//!
//! Both are `k=v` pairs sorted by key (byte order), joined with `&`, values raw (not
//! URL-encoded). They differ in what is left out:
//! - a request leaves out `sign` and every empty value, and keeps `sign_type`
//!   (official `getSignContent`; openapi gateway);
//! - a notify leaves out `sign` and `sign_type` and keeps everything else, empty
//!   values and unknown new fields included (official `getSignCheckContentV1`).

use std::collections::BTreeMap;

/// Sign content of an outgoing request.
pub fn request_sign_content<'a, I>(params: I) -> String
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let sorted: BTreeMap<&str, &str> = params
        .into_iter()
        .filter(|(k, v)| *k != "sign" && !v.is_empty())
        .collect();
    join(sorted)
}

/// Sign content of a received notify; `None` when a key appears twice, since the
/// signer's view of a duplicated field cannot be known.
pub fn notify_sign_content<'a, I>(params: I) -> Option<String>
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let mut sorted = BTreeMap::new();
    for (k, v) in params {
        if k == "sign" || k == "sign_type" {
            continue;
        }
        if sorted.insert(k, v).is_some() {
            return None;
        }
    }
    Some(join(sorted))
}

fn join(sorted: BTreeMap<&str, &str>) -> String {
    let mut out = String::new();
    for (i, (k, v)) in sorted.into_iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::alipay::keys::{AlipayPublicKey, AppPrivateKey};

    #[test]
    fn request_content_sorts_skips_empty_and_sign_keeps_sign_type() {
        let content = request_sign_content([
            ("timestamp", "2024-01-01 08:00:00"),
            ("app_id", "2021"),
            ("sign", "xxx"),
            ("notify_url", ""),
            ("sign_type", "RSA2"),
            ("biz_content", r#"{"subject":"a b&c"}"#),
        ]);
        assert_eq!(
            content,
            r#"app_id=2021&biz_content={"subject":"a b&c"}&sign_type=RSA2&timestamp=2024-01-01 08:00:00"#
        );
    }

    #[test]
    fn notify_content_drops_sign_and_sign_type_keeps_empty_and_unknown() {
        let content = notify_sign_content([
            ("trade_status", "TRADE_SUCCESS"),
            ("sign_type", "RSA2"),
            ("sign", "xxx"),
            ("body", ""),
            ("brand_new_field", "1"),
        ])
        .unwrap();
        assert_eq!(
            content,
            "body=&brand_new_field=1&trade_status=TRADE_SUCCESS"
        );
        assert_eq!(notify_sign_content([("a", "1"), ("a", "2")]), None);
    }

    /// Known answer. The key is the published test key of Alipay's Node SDK
    /// (alipay/alipay-sdk-nodejs-all, test/fixtures/app-private-key.pem, PKCS#1); the
    /// parameters are those of its `pageExec` test (test/alipay.test.ts) with a fixed
    /// timestamp. PKCS#1 v1.5 signatures are deterministic, so the expected value was
    /// computed once with an independent implementation:
    /// `openssl dgst -sha256 -sign app-private-key.pem content.txt | base64 -w0`.
    #[test]
    fn request_signature_known_answer() {
        let key = AppPrivateKey::from_text(include_str!("testdata/sdk_nodejs_app_private_key.pem"))
            .unwrap();
        let biz = r#"{"out_trade_no":"ALIPfdf1211sdfsd12gfddsgs3","product_code":"FAST_INSTANT_TRADE_PAY","subject":"abc","body":"234","total_amount":"0.01"}"#;
        let content = request_sign_content([
            ("method", "alipay.trade.page.pay"),
            ("app_id", "2021000122671080"),
            ("charset", "utf-8"),
            ("version", "1.0"),
            ("sign_type", "RSA2"),
            ("timestamp", "2016-06-06 12:00:00"),
            ("biz_content", biz),
        ]);
        let sign = key.sign(content.as_bytes()).unwrap();
        assert_eq!(
            sign,
            "nW3buksymC806q+tyMsGDHnWkboFDcDnfjXFSkNL/T8KuZnlf07+YRSUbI9qX+/0loc7XlGdLX4G6W6W2+Xl0+Zkqcc8aXEQCXNiVZjBUVE5iXNlH4jvr4wAGqjwncL/HpkzPi1xK6bIPvU8/yoOpS8pgN59wwT8pmd8uwUsjEpYE2hJifMR21gc3bkDsUk8Z4x2Z/9gTA5Atixm/veKQKpjLs9xUSepr6SUptmYxVSQe+N+BrPLKn/AOmixounzzzGoAV6VfTGwaBIlUbW8KIVue/2w75IpjiepQxutZN8eyoP8AC9qgE3Y/6Oyc+2SYUQZJG0Fw7xFhg2Sc8o7Pg=="
        );
        assert!(key.public_key().unwrap().verify(content.as_bytes(), &sign));
    }

    /// Known answer: a real Alipay-signed parameter set whose signature covers
    /// `sign_type` (a service-market notify), verified with the published key. Source:
    /// alipay/alipay-sdk-nodejs-all, test/alipay.test.ts ("verify sign should not
    /// delete sign_type") and test/fixtures/alipay-notify-sign-public-key-v2.pem.
    #[test]
    fn published_signature_over_sorted_params_verifies() {
        let key = AlipayPublicKey::from_text(include_str!(
            "testdata/sdk_nodejs_notify_public_key_v2.pem"
        ))
        .unwrap();
        let mut params = vec![
            ("app_id", "2017122801303261"),
            ("charset", "UTF-8"),
            ("commodity_order_id", "2019030800000018079639"),
            ("contactor", "技术支持测试的公司"),
            ("merchant_pid", "2088721996721370"),
            ("method", "alipay.open.servicemarket.order.notify"),
            ("name", "技术支持测试的公司"),
            ("notify_id", "2019030800222102023008121054923345"),
            ("notify_time", "2019-03-08 10:20:23"),
            ("notify_type", "servicemarket_order_notify"),
            ("order_item_num", "1"),
            ("order_ticket", "29b1c37d99ab48c5bd5bdaeaeaefbB37"),
            ("order_time", "2019-03-08 10:20:08"),
            ("phone", "17826894615"),
            ("service_code", "58621634"),
            ("sign_type", "RSA2"),
            ("timestamp", "2019-03-08 10:20:23"),
            ("title", "麦禾商城模版"),
            ("total_price", "0.00"),
            ("version", "1.0"),
        ];
        let sign = "MsK5SCw8oqLw4f0hiNSd5OVGXxBY3wnQeT8vn5PklJSZFWSZbK4hQbNvkp4ZezeXQH514cEv0ul6Qow8yh6e6yM06LfEL+EZjcpZ0nxzFGRNQ5qq2AUc1OaXQdk92AGvxh+Iq4NGpPQFBd4D8EBJa3NJd8+czMfQskceosOQFqUtLQMYa5DPs+VpN7VM5BdXjaVIuKn5d9Wm2B9dI9ObIM+YRySDkZZPv14DVmUvcrcqJfOR8aHvtSd7B4l92wUQPQgQKNcOQho7xOHS/Bk+Y74AZL2y7TkNmdDoq9OGsThuF5tDW9rI9nVwXxOtsuB+bstra+W7aw9x9DvkKgdSRw==";
        let content = request_sign_content(params.iter().copied());
        assert!(key.verify(content.as_bytes(), sign));
        params[14].1 = "58621634111";
        let content = request_sign_content(params.iter().copied());
        assert!(!key.verify(content.as_bytes(), sign));
    }
}
