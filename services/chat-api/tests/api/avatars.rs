//! Avatars through the real service and the local S3-compatible store
//! (s3s-fs on 127.0.0.1:8094, started by `scripts/services.sh sandbox`):
//! uploads are judged by content, re-encoded to a 256×256 WebP without
//! metadata, served from the versioned URL, and the version moves.

use std::io::Cursor;

use image::{ImageFormat, RgbImage};
use serde_json::Value;

use crate::accounts_support::{PASSWORD, email, expect_error, spawn_accounts_app};
use crate::helpers::TestApp;

/// Text hidden in the uploads' metadata, which must not come back.
const SECRET: &[u8] = b"GPS 52.5200N 13.4050E camera-serial-4711";

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn picture(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8])
    })
}

fn encoded(img: &RgbImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

/// A PNG carrying an `eXIf` and a `tEXt` chunk with [`SECRET`].
fn png_with_metadata(w: u32, h: u32) -> Vec<u8> {
    let png = encoded(&picture(w, h), ImageFormat::Png);
    let chunk = |kind: &[u8], data: &[u8]| {
        let mut c = (data.len() as u32).to_be_bytes().to_vec();
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        c.extend_from_slice(&body);
        c.extend_from_slice(&crc32(&body).to_be_bytes());
        c
    };
    let mut exif = b"MM\0*\0\0\0\x08".to_vec();
    exif.extend_from_slice(SECRET);
    let mut text = b"Comment\0".to_vec();
    text.extend_from_slice(SECRET);
    // After the signature (8) and IHDR (25).
    let mut out = png[..33].to_vec();
    out.extend(chunk(b"eXIf", &exif));
    out.extend(chunk(b"tEXt", &text));
    out.extend_from_slice(&png[33..]);
    out
}

/// A JPEG with an APP1 Exif segment carrying [`SECRET`].
fn jpeg_with_exif(w: u32, h: u32) -> Vec<u8> {
    let jpeg = encoded(&picture(w, h), ImageFormat::Jpeg);
    let mut app1 = b"Exif\0\0MM\0*\0\0\0\x08".to_vec();
    app1.extend_from_slice(SECRET);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A multipart body with one `file` field, written by hand so the file name
/// and declared type are exactly what a test says.
fn multipart(file_name: &str, content_type: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "paychat-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
         Content-Type: {content_type}\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn upload(app: &TestApp, token: &str, file_name: &str, bytes: &[u8]) -> reqwest::Response {
    let (content_type, body) = multipart(file_name, "image/png", bytes);
    app.client
        .post(app.url("/api/users/me/avatar"))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn signed_in() -> (TestApp, String, String) {
    let app = spawn_accounts_app(&[]).await;
    let (user_id, token) = app.signed_up(&email("avatar"), PASSWORD).await;
    (app, user_id, token)
}

async fn version(app: &TestApp) -> i64 {
    app.count("SELECT CAST(avatar_version AS SIGNED) FROM chat_user")
        .await
}

/// GETs the avatar URL through the service; answers the decoded picture's facts.
async fn fetch(app: &TestApp, url: &str) -> Vec<u8> {
    let res = app.client.get(app.url(url)).send().await.unwrap();
    assert_eq!(res.status(), 200, "GET {url}");
    assert_eq!(res.headers()["content-type"], "image/webp");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert!(
        res.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    res.bytes().await.unwrap().to_vec()
}

fn assert_clean_avatar(webp: &[u8]) {
    assert_eq!(image::guess_format(webp).unwrap(), ImageFormat::WebP);
    let decoded = image::load_from_memory_with_format(webp, ImageFormat::WebP).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (256, 256));
    assert!(!contains(webp, SECRET), "metadata survived");
    for chunk in [&b"EXIF"[..], b"XMP ", b"ICCP"] {
        assert!(!contains(webp, chunk), "a {chunk:?} chunk survived");
    }
}

#[tokio::test]
async fn a_valid_image_round_trips_as_a_clean_256_webp_and_the_version_moves() {
    let (app, user_id, token) = signed_in().await;
    let me: Value = app.me(&token).await.json().await.unwrap();
    assert!(me["avatar_url"].is_null(), "{me}");

    let res = upload(&app, &token, "holiday.png", &png_with_metadata(640, 480)).await;
    assert_eq!(res.status(), 200);
    let user: Value = res.json().await.unwrap();
    let first = user["avatar_url"].as_str().unwrap().to_owned();
    assert_eq!(first, format!("/api/users/{user_id}/avatar?v=1"));
    assert_eq!(version(&app).await, 1);
    assert_clean_avatar(&fetch(&app, &first).await);

    let res = upload(&app, &token, "photo.jpg", &jpeg_with_exif(300, 500)).await;
    assert_eq!(res.status(), 200);
    let user: Value = res.json().await.unwrap();
    let second = user["avatar_url"].as_str().unwrap().to_owned();
    assert_eq!(second, format!("/api/users/{user_id}/avatar?v=2"));
    assert_eq!(version(&app).await, 2);
    assert_clean_avatar(&fetch(&app, &second).await);
    // The me response carries the same versioned URL.
    let me: Value = app.me(&token).await.json().await.unwrap();
    assert_eq!(me["avatar_url"], second.as_str());
    // The replaced version is gone from the store.
    let old = app.client.get(app.url(&first)).send().await.unwrap();
    assert_eq!(old.status(), 404);
}

#[tokio::test]
async fn a_png_with_an_executable_tail_is_refused() {
    let (app, _, token) = signed_in().await;
    let mut tailed = encoded(&picture(64, 64), ImageFormat::Png);
    tailed.extend_from_slice(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\x3e\0");
    tailed.extend_from_slice(&[0x90; 512]);
    let res = upload(&app, &token, "avatar.png", &tailed).await;
    expect_error(res, 400, "invalid_image").await;
    assert_eq!(version(&app).await, 0);
}

#[tokio::test]
async fn html_named_png_is_refused() {
    let (app, _, token) = signed_in().await;
    let html = b"<!doctype html><html><body><script>fetch('/api/users/me')</script></body></html>";
    let res = upload(&app, &token, "avatar.png", html).await;
    expect_error(res, 400, "invalid_image").await;
    assert_eq!(version(&app).await, 0);
    let me: Value = app.me(&token).await.json().await.unwrap();
    assert!(me["avatar_url"].is_null());
}

#[tokio::test]
async fn a_10_mib_file_is_refused() {
    let (app, _, token) = signed_in().await;
    let big = vec![0x42u8; 10 * 1024 * 1024];
    let res = upload(&app, &token, "big.png", &big).await;
    expect_error(res, 413, "payload_too_large").await;
    assert_eq!(version(&app).await, 0);
}

#[tokio::test]
async fn a_file_just_over_2_mib_in_a_body_under_the_route_limit_is_refused() {
    let (app, _, token) = signed_in().await;
    // Passes the declared-length check (2 MiB + 64 KiB for the route) but
    // the file itself is over 2 MiB: refused while it is read.
    let file = vec![0x42u8; 2 * 1024 * 1024 + 10_000];
    let res = upload(&app, &token, "big.png", &file).await;
    expect_error(res, 413, "payload_too_large").await;
    assert_eq!(version(&app).await, 0);
}

#[tokio::test]
async fn other_routes_keep_the_64_kib_body_limit() {
    let (app, _, token) = signed_in().await;
    let res = app
        .client
        .patch(app.url("/api/users/me"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(format!(
            "{{\"description\":\"{}\"}}",
            "x".repeat(100 * 1024)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
}

#[tokio::test]
async fn an_upload_needs_a_session_and_unknown_avatars_are_404() {
    let app = spawn_accounts_app(&[]).await;
    let png = encoded(&picture(32, 32), ImageFormat::Png);
    let (content_type, body) = multipart("a.png", "image/png", &png);
    let res = app
        .client
        .post(app.url("/api/users/me/avatar"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    for path in [
        "/api/users/42/avatar?v=1",
        "/api/users/42/avatar",
        "/api/users/not-a-number/avatar",
    ] {
        let res = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 404, "{path}");
    }
}

#[tokio::test]
async fn the_admin_user_list_carries_each_users_avatar_url() {
    let boss = email("avatarboss");
    let app = spawn_accounts_app(&[("admin_emails", boss.clone())]).await;
    let (_, admin) = app.signed_up(&boss, PASSWORD).await;
    let (user_id, token) = app.signed_up(&email("avatarcustomer"), PASSWORD).await;
    let res = upload(
        &app,
        &token,
        "me.png",
        &encoded(&picture(80, 80), ImageFormat::Png),
    )
    .await;
    assert_eq!(res.status(), 200);
    let page: Value = app
        .read_json(
            app.client
                .get(app.url("/api/admin/users"))
                .bearer_auth(&admin),
        )
        .await;
    let items = page["items"].as_array().unwrap();
    let row = items.iter().find(|u| u["id"] == user_id.as_str()).unwrap();
    assert_eq!(
        row["avatar_url"],
        format!("/api/users/{user_id}/avatar?v=1").as_str()
    );
    let boss_row = items.iter().find(|u| u["email"] == boss.as_str()).unwrap();
    assert!(boss_row["avatar_url"].is_null());
}

#[tokio::test]
async fn the_openapi_document_describes_the_upload_and_the_mailed_link() {
    let app = spawn_accounts_app(&[]).await;
    let doc = app.get_public_json("/api-docs/openapi.json").await;
    let paths = &doc["paths"];
    let upload = &paths["/api/users/me/avatar"]["post"];
    assert!(
        upload["requestBody"]["content"]["multipart/form-data"].is_object(),
        "{upload}"
    );
    for status in ["200", "400", "413"] {
        assert!(upload["responses"][status].is_object(), "{status}");
    }
    assert!(paths["/api/users/{id}/avatar"]["get"].is_object());
    assert!(paths["/api/auth/oauth/link-mail"]["post"].is_object());
    assert!(paths["/api/auth/oauth/link-confirm"]["post"].is_object());
    assert!(doc["components"]["schemas"]["User"]["properties"]["avatar_url"].is_object());
}

#[tokio::test]
async fn uploads_per_user_are_limited() {
    let app = spawn_accounts_app(&[("avatar_upload_limit", "2".into())]).await;
    let (_, token) = app.signed_up(&email("avatarlimit"), PASSWORD).await;
    let png = encoded(&picture(40, 40), ImageFormat::Png);
    for _ in 0..2 {
        assert_eq!(upload(&app, &token, "a.png", &png).await.status(), 200);
    }
    let res = upload(&app, &token, "a.png", &png).await;
    assert!(res.headers().contains_key("retry-after"));
    expect_error(res, 429, "rate_limited").await;
    assert_eq!(version(&app).await, 2);
}
