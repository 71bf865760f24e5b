//! Logos (B3) over HTTP: upload on + New and Edit, checks by content, scaling to 260 px, storage,
//! serving with caching headers, and every kind of bad file.

use roster::auth::Role;

use crate::bodies::ServerProcess;
use crate::images;
use crate::support::{Client, PASSWORD, Resp, TestApp};

async fn upload(client: &Client, name: &str, file_name: &str, bytes: Vec<u8>) -> Resp {
    client
        .post_multipart(
            "/organizations",
            &[
                ("name", name),
                ("short_name", "KEEP"),
                ("quick_notes", "kept notes"),
            ],
            Some((file_name, bytes)),
        )
        .await
}

/// The stored logo of the organization a redirect points at: (content type, width, height, bytes).
async fn stored(app: &TestApp, location: &str) -> (String, i32, i32, Vec<u8>) {
    let id: i64 = location.rsplit('/').next().unwrap().parse().unwrap();
    app.db(move |c| {
        use diesel::prelude::*;
        use roster::db::schema::logos as l;
        l::table
            .find(id)
            .select((l::content_type, l::width, l::height, l::bytes))
            .first(c)
            .unwrap()
    })
    .await
}

async fn logo_count(app: &TestApp) -> i64 {
    app.db(|c| {
        use diesel::prelude::*;
        roster::db::schema::logos::table
            .count()
            .get_result(c)
            .unwrap()
    })
    .await
}

/// A refusal: the form again, the message beside the Logo field, the other values kept, nothing stored.
async fn refused(app: &TestApp, res: &Resp, message: &str) {
    assert_eq!(res.status, 422, "expected a refusal saying {message:?}");
    assert!(res.body.contains("id=\"logo-error\""), "{}", res.body);
    assert!(
        res.body.contains(message),
        "expected {message:?} in\n{}",
        res.body
    );
    assert!(res.body.contains("value=\"KEEP\"") && res.body.contains("kept notes"));
    assert_eq!(logo_count(app).await, 0);
}

#[tokio::test]
async fn a_photo_is_scaled_to_260_wide_and_served() {
    let app = TestApp::spawn().await;
    let client = app.login_as(Role::Editor).await;
    let res = upload(&client, "Photo Co", "photo.jpg", images::jpeg(1200, 800)).await;
    assert_eq!(res.status, 303, "{}", res.body);
    let (content_type, width, height, bytes) = stored(&app, res.location()).await;
    assert_eq!(
        (content_type.as_str(), width, height),
        ("image/jpeg", 260, 173)
    );
    let decoded = image::load_from_memory(&bytes).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (260, 173));

    let page = client.get(res.location()).await.body;
    let id = res.location().rsplit('/').next().unwrap();
    assert!(
        page.contains(&format!(
            "src=\"/organizations/{id}/logo\" width=\"260\" height=\"173\""
        )),
        "{page}"
    );
    assert!(client.get("/organizations").await.body.contains(&format!(
        "class=\"thumb\" src=\"/organizations/{id}/logo\" width=\"260\" height=\"173\""
    )));

    let served = client.get(&format!("/organizations/{id}/logo")).await;
    assert_eq!(served.status, 200);
    assert_eq!(served.header("content-type"), "image/jpeg");
    assert_eq!(served.header("x-content-type-options"), "nosniff");
    assert!(served.header("content-security-policy").contains("sandbox"));
    assert!(served.header("cache-control").contains("private"));
    let etag = served.header("etag").to_owned();
    assert!(etag.starts_with('"') && etag.len() > 10);
    let again = client
        .get_with_headers(
            &format!("/organizations/{id}/logo"),
            &[("if-none-match", &etag)],
        )
        .await;
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    // Anonymous: to the sign-in page, never the image.
    assert_eq!(
        app.client()
            .get(&format!("/organizations/{id}/logo"))
            .await
            .status,
        303
    );
}

#[tokio::test]
async fn a_small_logo_keeps_its_size_and_transparency() {
    let app = TestApp::spawn().await;
    let client = app.login_as(Role::Editor).await;
    let res = upload(
        &client,
        "Small Co",
        "small.png",
        images::png(200, 100, true),
    )
    .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let (content_type, width, height, bytes) = stored(&app, res.location()).await;
    assert_eq!(
        (content_type.as_str(), width, height),
        ("image/png", 200, 100)
    );
    let decoded = image::load_from_memory(&bytes).unwrap().into_rgba8();
    assert_eq!(
        decoded.get_pixel(10, 50)[3],
        0,
        "transparent half stays transparent"
    );
    assert_eq!(decoded.get_pixel(190, 50)[3], 255);
}

#[tokio::test]
async fn exif_orientation_is_applied() {
    let app = TestApp::spawn().await;
    let client = app.login_as(Role::Editor).await;
    // Stored 800 x 600 sideways; orientation 6 means it is shown 600 x 800.
    let res = upload(
        &client,
        "Phone Co",
        "IMG_0001.JPG",
        images::jpeg_with_orientation(800, 600, 6),
    )
    .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let (_, width, height, bytes) = stored(&app, res.location()).await;
    assert_eq!((width, height), (260, 347));
    assert!(!bytes.windows(4).any(|w| w == b"Exif"), "metadata dropped");
}

#[tokio::test]
async fn an_animated_gif_keeps_its_first_frame() {
    let app = TestApp::spawn().await;
    let client = app.login_as(Role::Editor).await;
    let res = upload(&client, "Gif Co", "anim.gif", images::animated_gif()).await;
    assert_eq!(res.status, 303, "{}", res.body);
    let (_, width, height, bytes) = stored(&app, res.location()).await;
    assert_eq!((width, height), (260, 130));
    let pixel = image::load_from_memory(&bytes)
        .unwrap()
        .into_rgb8()
        .get_pixel(130, 65)
        .0;
    assert!(
        pixel[0] > 200 && pixel[2] < 60,
        "the first (red) frame: {pixel:?}"
    );
}

#[tokio::test]
async fn appended_payloads_do_not_survive() {
    let app = TestApp::spawn().await;
    let client = app.login_as(Role::Editor).await;
    let mut bytes = images::png(300, 300, false);
    bytes.extend_from_slice(b"<html><script>alert(1)</script></html>");
    let res = upload(&client, "Payload Co", "logo.png", bytes).await;
    assert_eq!(res.status, 303, "{}", res.body);
    let (_, _, _, stored_bytes) = stored(&app, res.location()).await;
    assert!(!stored_bytes.windows(7).any(|w| w == b"<script"));
}

#[tokio::test]
async fn files_that_are_not_accepted_images_are_refused() {
    let app = TestApp::spawn().await;
    let client = app.login_as(Role::Editor).await;
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"><rect width=\"10\" height=\"10\"/></svg>".to_vec();
    refused(
        &app,
        &upload(&client, "A", "logo.svg", svg).await,
        "SVG images are not accepted",
    )
    .await;
    let svg_script = b"<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>".to_vec();
    refused(
        &app,
        &upload(&client, "B", "logo.png", svg_script).await,
        "SVG images are not accepted",
    )
    .await;
    let html = b"<!doctype html><html><script>alert(1)</script></html>".to_vec();
    refused(
        &app,
        &upload(&client, "C", "logo.png", html).await,
        "This file is an HTML or XML document",
    )
    .await;
    refused(
        &app,
        &upload(&client, "D", "logo.pdf", b"%PDF-1.7 ...".to_vec()).await,
        "a PDF document",
    )
    .await;
    let huge = images::png_claiming(60_000, 60_000);
    refused(
        &app,
        &upload(&client, "E", "huge.png", huge).await,
        "The image is 60000 x 60000 px",
    )
    .await;
    let bomb = images::png_bomb();
    assert!(
        bomb.len() < 200_000,
        "the bomb is small: {} bytes",
        bomb.len()
    );
    refused(
        &app,
        &upload(&client, "F", "bomb.png", bomb).await,
        "The image is 8000 x 8000 px",
    )
    .await;
    let mut truncated = images::jpeg(1200, 800);
    truncated.truncate(truncated.len() / 3);
    refused(
        &app,
        &upload(&client, "G", "cut.jpg", truncated).await,
        "could not be read",
    )
    .await;
    let tall = images::png(100, 2000, false);
    refused(
        &app,
        &upload(&client, "H", "tall.png", tall).await,
        "would be 2000 px tall",
    )
    .await;
    // The file name is never used, whatever it says.
    let res = upload(
        &client,
        "Path Co",
        "../../etc/passwd",
        images::png(50, 50, false),
    )
    .await;
    assert_eq!(res.status, 303);
    // Nothing is written under that name, here or where it points; the logo is in the database.
    let (content_type, width, _, _) = stored(&app, res.location()).await;
    assert_eq!((content_type.as_str(), width), ("image/jpeg", 50));
    let data_dir: Vec<String> = std::fs::read_dir(app.store.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        data_dir.iter().all(|name| !name.contains("passwd")),
        "{data_dir:?}"
    );
    let served = client.get(&format!("{}/logo", res.location())).await;
    assert!(!served.header("content-disposition").contains("passwd"));
}

#[tokio::test]
async fn an_upload_over_10_mb_is_refused_with_413() {
    let app = TestApp::spawn().await;
    let client = app.login_as(Role::Editor).await;
    let res = upload(&client, "Big Co", "big.png", vec![0u8; 11 * 1024 * 1024]).await;
    assert_eq!(res.status, 413, "{}", res.body);
    assert!(res.body.contains("larger than 10 MB"), "{}", res.body);
    assert_eq!(logo_count(&app).await, 0);
}

#[tokio::test]
async fn read_only_users_cannot_upload() {
    let app = TestApp::spawn().await;
    let org = app.add_org("Read Co", None).await;
    let reader = app.login_as(Role::ReadOnly).await;
    let res = reader
        .post_multipart(
            &format!("/organizations/{org}"),
            &[("name", "Read Co")],
            Some(("x.png", images::png(400, 400, false))),
        )
        .await;
    assert_eq!(res.status, 403);
    let res = reader
        .post_multipart(
            "/organizations",
            &[("name", "New")],
            Some(("x.png", images::png(400, 400, false))),
        )
        .await;
    assert_eq!(res.status, 403);
    assert_eq!(logo_count(&app).await, 0);
}

#[tokio::test]
async fn a_multipart_form_needs_its_csrf_token() {
    let app = TestApp::spawn().await;
    let client = app.login_as(Role::Editor).await;
    let res = client
        .post_multipart_raw(
            "/organizations",
            None,
            &[("name", "No Token")],
            Some(("x.png", images::png(10, 10, false))),
        )
        .await;
    assert_eq!(res.status, 403);
    let res = client
        .post_multipart_raw(
            "/organizations",
            Some("forged"),
            &[("name", "Forged")],
            None,
        )
        .await;
    assert_eq!(res.status, 403);
    let count = app.org_count().await;
    assert_eq!(count, 0);
}

#[tokio::test]
async fn replace_and_remove_a_logo_on_edit() {
    let app = TestApp::spawn().await;
    let client = app.login_as(Role::Editor).await;
    let res = upload(&client, "Swap Co", "a.png", images::png(100, 50, false)).await;
    let location = res.location().to_owned();
    let id = location.rsplit('/').next().unwrap().to_owned();
    let form = client.get(&format!("/organizations/{id}/edit")).await.body;
    assert!(form.contains("enctype=\"multipart/form-data\""));
    assert!(
        form.contains(&format!(
            "src=\"/organizations/{id}/logo\" width=\"100\" height=\"50\""
        )),
        "preview"
    );

    let res = client
        .post_multipart(
            &location,
            &[("name", "Swap Co")],
            Some(("b.jpg", images::jpeg(520, 260))),
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let (_, width, height, _) = stored(&app, &location).await;
    assert_eq!((width, height), (260, 130));
    assert!(client.get(&location).await.body.contains("logo replaced"));

    let res = client
        .post_multipart(
            &location,
            &[("name", "Swap Co"), ("remove_logo", "1")],
            None,
        )
        .await;
    assert_eq!(res.status, 303);
    assert_eq!(logo_count(&app).await, 0);
    assert_eq!(
        client
            .get(&format!("/organizations/{id}/logo"))
            .await
            .status,
        404
    );
    // Saving without a file keeps nothing new and changes nothing.
    let res = client
        .post_multipart(&location, &[("name", "Swap Co")], None)
        .await;
    assert_eq!(res.status, 303);
}

#[tokio::test]
async fn a_logo_is_served_only_to_those_who_may_see_the_organization() {
    let app = TestApp::spawn().await;
    let editor = app.login_as(Role::Editor).await;
    let res = upload(&editor, "Private Co", "p.png", images::png(100, 100, false)).await;
    let id = res.location().rsplit('/').next().unwrap().to_owned();
    let lite = app.login_as(Role::Lite).await;
    assert_eq!(
        lite.get(&format!("/organizations/{id}/logo")).await.status,
        404
    );
}

#[tokio::test]
async fn twenty_uploads_at_once_all_finish_and_pages_still_render() {
    let app = TestApp::spawn().await;
    let client = app.login_as(Role::Editor).await;
    let photo = images::jpeg(1200, 800);
    let uploads = (0..20).map(|i| {
        let (client, photo) = (&client, photo.clone());
        async move {
            upload(client, &format!("Busy Co {i}"), "busy.jpg", photo)
                .await
                .status
        }
    });
    let page = async {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        client.get("/organizations").await.status
    };
    let (statuses, page_status) = tokio::join!(futures_util::future::join_all(uploads), page);
    assert!(statuses.iter().all(|s| *s == 303), "{statuses:?}");
    assert_eq!(
        page_status, 200,
        "a page renders while logos are being decoded"
    );
    assert_eq!(logo_count(&app).await, 20);
}

#[tokio::test]
async fn six_huge_transparent_pngs_at_once_stay_within_memory() {
    // Made first: it takes seconds, and an idle connection may be closed meanwhile.
    let huge = images::transparent_png(6300);
    assert!(
        huge.len() < 200_000,
        "the file is small: {} bytes",
        huge.len()
    );
    let app = TestApp::spawn().await;
    let email = app.add_user(Role::Editor, "big-logos").await;
    let server = ServerProcess::start(&app.store).await;
    let client = server.client();
    assert_eq!(client.login(&email, PASSWORD).await.status, 303);
    // Warm up with a small logo, so that the baseline holds what any upload costs.
    let res = upload(&client, "Warm Co", "warm.png", images::png(400, 200, true)).await;
    assert_eq!(res.status, 303, "{}", res.body);
    let before = server.peak_mib();

    let names: Vec<String> = (0..6).map(|i| format!("Huge Co {i}")).collect();
    let uploads = names
        .iter()
        .map(|name| server.post_logo(&client, name, huge.clone()));
    let answers = futures_util::future::join_all(uploads).await;
    let growth = server.peak_mib() - before;
    eprintln!("six huge PNGs: peak memory grew by {growth:.1} MiB");
    for (status, location) in &answers {
        assert_eq!(*status, 303, "{answers:?}");
        let (content_type, width, height, bytes) = stored(&app, location).await;
        assert_eq!(
            (content_type.as_str(), width, height),
            ("image/png", 260, 260)
        );
        let decoded = image::load_from_memory(&bytes).unwrap().into_rgba8();
        assert!(decoded.pixels().all(|p| p[3] == 0), "transparency kept");
    }
    assert!(
        growth < 150.0,
        "peak memory grew by {growth:.1} MiB for six 6,300 x 6,300 PNGs"
    );
}

#[tokio::test]
async fn what_is_decoded_whole_is_capped_and_interlaced_png_still_works() {
    let app = TestApp::spawn().await;
    let client = app.login_as(Role::Editor).await;
    let res = upload(
        &client,
        "Interlaced Co",
        "adam7.png",
        images::interlaced_png(520, 260, true),
    )
    .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let (content_type, width, height, bytes) = stored(&app, res.location()).await;
    assert_eq!(
        (content_type.as_str(), width, height),
        ("image/png", 260, 130)
    );
    let decoded = image::load_from_memory(&bytes).unwrap().into_rgba8();
    assert_eq!(decoded.get_pixel(20, 65)[3], 0, "the transparent half");
    assert_eq!(decoded.get_pixel(240, 65)[3], 255);

    let res = upload(
        &client,
        "Wide Gif Co",
        "big.gif",
        images::gif_claiming(3000, 2001),
    )
    .await;
    assert_eq!(res.status, 422, "{}", res.body);
    assert!(
        res.body
            .contains("A GIF is decoded whole, so it is accepted up to 6 megapixels")
            && res.body.contains("3000 x 2001 px"),
        "{}",
        res.body
    );
    assert_eq!(logo_count(&app).await, 1);
}
