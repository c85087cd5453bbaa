//! `POST /gateway.do`: the open-API gateway. Checks the merchant's RSA2 signature,
//! dispatches on `method`, and answers `{"<method>_response": {...}, "sign": "..."}`
//! signed over the exact text of the node, like Alipay.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use rand::Rng;
use serde_json::{Value, json};

use crate::AppState;
use crate::crypto::request_content;
use crate::trades::{Refusal, refuse};

const METHODS: [&str; 4] = [
    "alipay.trade.precreate",
    "alipay.trade.query",
    "alipay.trade.close",
    "alipay.trade.refund",
];

fn gateway_error(
    code: &'static str,
    msg: &'static str,
    sub_code: &'static str,
    sub_msg: &str,
) -> Value {
    json!({"code": code, "msg": msg, "sub_code": sub_code, "sub_msg": sub_msg})
}

fn refusal(r: Refusal) -> Value {
    json!({"code": r.code, "msg": r.msg, "sub_code": r.sub_code, "sub_msg": r.sub_msg})
}

/// Signs `node_value` and wraps it the way Alipay does.
pub fn signed_body(state: &AppState, node: &str, node_value: &Value) -> String {
    let text = node_value.to_string();
    let sign = state.keys.sign(&text);
    format!(r#"{{"{node}":{text},"sign":"{sign}"}}"#)
}

fn answer(state: &AppState, node: &str, value: &Value) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json;charset=utf-8")],
        signed_body(state, node, value),
    )
        .into_response()
}

pub fn random_token() -> String {
    let bytes: [u8; 16] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub async fn gateway(State(state): State<AppState>, body: Bytes) -> Response {
    let pairs: Vec<(String, String)> = match serde_urlencoded::from_bytes(&body) {
        Ok(p) => p,
        Err(_) => {
            let v = gateway_error(
                "40002",
                "Invalid Arguments",
                "isv.invalid-parameter",
                "请求体不是表单",
            );
            return answer(&state, "error_response", &v);
        }
    };
    let params: BTreeMap<String, String> = pairs.into_iter().collect();
    let get = |k: &str| params.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let node = match get("method") {
        Some(m) if METHODS.contains(&m) => format!("{}_response", m.replace('.', "_")),
        Some(_) => {
            let v = gateway_error(
                "40002",
                "Invalid Arguments",
                "isv.invalid-method",
                "不存在的方法名",
            );
            return answer(&state, "error_response", &v);
        }
        None => {
            let v = gateway_error(
                "40001",
                "Missing Required Arguments",
                "isv.missing-method",
                "缺少方法名参数",
            );
            return answer(&state, "error_response", &v);
        }
    };
    let checks: [(&str, Option<Value>); 4] = [
        (
            "app_id",
            get("app_id").is_none().then(|| {
                gateway_error(
                    "40001",
                    "Missing Required Arguments",
                    "isv.missing-app-id",
                    "缺少AppID参数",
                )
            }),
        ),
        (
            "sign",
            get("sign").is_none().then(|| {
                gateway_error(
                    "40001",
                    "Missing Required Arguments",
                    "isv.missing-signature",
                    "缺少签名参数",
                )
            }),
        ),
        (
            "sign_type",
            (get("sign_type") != Some("RSA2")).then(|| {
                gateway_error(
                    "40002",
                    "Invalid Arguments",
                    "isv.invalid-signature-type",
                    "无效的签名类型",
                )
            }),
        ),
        (
            "biz_content",
            get("biz_content").is_none().then(|| {
                gateway_error(
                    "40001",
                    "Missing Required Arguments",
                    "isv.missing-biz-content",
                    "缺少业务参数",
                )
            }),
        ),
    ];
    if let Some((_, Some(v))) = checks.into_iter().find(|(_, e)| e.is_some()) {
        return answer(&state, &node, &v);
    }
    let sign = get("sign").unwrap_or_default();
    if !state.keys.verify_merchant(&request_content(&params), sign) {
        let v = gateway_error(
            "40002",
            "Invalid Arguments",
            "isv.invalid-signature",
            "验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配",
        );
        return answer(&state, &node, &v);
    }
    let Ok(biz) = serde_json::from_str::<Value>(get("biz_content").unwrap_or_default()) else {
        let v = gateway_error(
            "40002",
            "Invalid Arguments",
            "isv.invalid-biz-content",
            "业务参数不是JSON",
        );
        return answer(&state, &node, &v);
    };
    let app_id = get("app_id").unwrap_or_default().to_owned();
    let now = Utc::now();
    let method = get("method").unwrap_or_default();
    let result = {
        let mut store = state.store();
        match method {
            "alipay.trade.precreate" => store
                .precreate(
                    &app_id,
                    get("notify_url"),
                    &biz,
                    &state.base_url,
                    now,
                    random_token(),
                )
                .map(|v| (v, None)),
            "alipay.trade.query" => store.query(&app_id, &biz, now).map(|v| (v, None)),
            "alipay.trade.close" => store.close(&app_id, &biz, now).map(|(v, k)| (v, Some(k))),
            "alipay.trade.refund" => store.refund(&app_id, &biz, now),
            _ => Err(refuse("ACQ.INVALID_PARAMETER", "unsupported method")),
        }
    };
    match result {
        Ok((value, notify_for)) => {
            if let Some(key) = notify_for {
                crate::notifier::notify(&state, &key, false);
            }
            answer(&state, &node, &value)
        }
        Err(r) => answer(&state, &node, &refusal(r)),
    }
}
