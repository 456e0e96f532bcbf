//! What makes a training photo acceptable, decided by its bytes: JPEG, PNG or WebP by their
//! signatures (never the file name), at most 20 MB, 512–4096 pixels a side.

pub const MIN_PHOTOS: i64 = 10;
pub const MAX_PHOTOS: i64 = 20;
pub const MAX_PHOTO_BYTES: usize = 20 * 1024 * 1024;
const MIN_SIDE: usize = 512;
const MAX_SIDE: usize = 4096;

/// What the bytes are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhotoFacts {
    pub content_type: &'static str,
    pub extension: &'static str,
    pub width: u32,
    pub height: u32,
}

/// The facts of an acceptable photo, or why it is refused (shown to the user as it is).
pub fn inspect(bytes: &[u8]) -> Result<PhotoFacts, String> {
    if bytes.len() > MAX_PHOTO_BYTES {
        return Err(format!("the file is {:.1} MB; at most 20 MB", bytes.len() as f64 / 1_048_576.0));
    }
    let (content_type, extension) = if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        ("image/jpeg", "jpg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        ("image/png", "png")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        ("image/webp", "webp")
    } else {
        return Err("not a JPEG, PNG or WebP image".into());
    };
    let size = imagesize::blob_size(bytes).map_err(|_| "the image cannot be read".to_owned())?;
    let sides = MIN_SIDE..=MAX_SIDE;
    if !sides.contains(&size.width) || !sides.contains(&size.height) {
        return Err(format!("the image is {}×{} pixels; each side must be 512–4096", size.width, size.height));
    }
    Ok(PhotoFacts { content_type, extension, width: size.width as u32, height: size.height as u32 })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::generations::AspectRatio;
    use crate::providers::local::render_png;

    #[test]
    fn photos_are_judged_by_their_bytes() {
        let png = render_png("me", Some(1), 0, AspectRatio::Square.size(600));
        let facts = inspect(&png).expect("a 600 px PNG is fine");
        assert_eq!((facts.content_type, facts.width, facts.height), ("image/png", 600, 600));
        let refusal = |bytes: &[u8]| inspect(bytes).err().unwrap_or_default();
        assert!(refusal(b"just some text, named photo.jpg").contains("not a JPEG"));
        let tiny = render_png("me", Some(1), 0, AspectRatio::Square.size(10));
        assert!(refusal(&tiny).contains("10×10"));
        let huge = vec![0xFFu8; MAX_PHOTO_BYTES + 1];
        assert!(refusal(&huge).contains("at most 20 MB"));
    }
}
