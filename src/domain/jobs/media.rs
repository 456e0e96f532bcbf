//! What a stored result is, read from its bytes: a picture's size, and a clip's size and length.
//! Pictures and GIFs through `imagesize`; an MP4 by its boxes (`mvhd` for the length, the first
//! `tkhd` with a size for the frame), so no video library is needed to store a clip.

/// The facts a gallery row keeps of a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct MediaFacts {
    pub width: u32,
    pub height: u32,
    pub duration_ms: Option<u32>,
}

/// The file's facts; None when it is not a picture or clip we can read.
pub(super) fn facts(bytes: &[u8], content_type: &str) -> Option<MediaFacts> {
    // An MP4 starts with its `ftyp` box, whatever type it was declared as.
    if content_type == "video/mp4" || bytes.get(4..8) == Some(b"ftyp".as_slice()) {
        return mp4_facts(bytes);
    }
    let size = imagesize::blob_size(bytes).ok()?;
    Some(MediaFacts { width: size.width as u32, height: size.height as u32, duration_ms: None })
}

/// The boxes we look into: the others are skipped by their size.
const CONTAINERS: [&[u8; 4]; 3] = [b"moov", b"trak", b"mdia"];

fn mp4_facts(bytes: &[u8]) -> Option<MediaFacts> {
    let mut facts = MediaFacts { width: 0, height: 0, duration_ms: None };
    walk(bytes, &mut facts, 0);
    (facts.width > 0 && facts.height > 0).then_some(facts)
}

fn walk(mut bytes: &[u8], facts: &mut MediaFacts, depth: u8) {
    while bytes.len() >= 8 && depth < 4 {
        let size = u32::from_be_bytes(bytes[..4].try_into().unwrap_or_default()) as usize;
        let kind = &bytes[4..8];
        // A size of 1 (64-bit sizes) or 0 (to the end) only occurs for media data here: stop.
        if size < 8 || size > bytes.len() {
            return;
        }
        let body = &bytes[8..size];
        if CONTAINERS.iter().any(|c| c.as_slice() == kind) {
            walk(body, facts, depth + 1);
        } else if kind == b"mvhd" {
            facts.duration_ms = movie_duration_ms(body);
        } else if kind == b"tkhd" && facts.width == 0 {
            (facts.width, facts.height) = track_size(body).unwrap_or_default();
        }
        bytes = &bytes[size..];
    }
}

fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn be64(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
}

/// `mvhd`: version 0 has 32-bit times (timescale at 12, duration at 16), version 1 64-bit ones
/// (timescale at 20, duration at 24).
fn movie_duration_ms(body: &[u8]) -> Option<u32> {
    let (timescale, duration) = match body.first()? {
        0 => (be32(body, 12)?, u64::from(be32(body, 16)?)),
        _ => (be32(body, 20)?, be64(body, 24)?),
    };
    (timescale > 0).then(|| (duration.saturating_mul(1000) / u64::from(timescale)).min(u64::from(u32::MAX)) as u32)
}

/// `tkhd`: width and height are the last 8 bytes, 16.16 fixed point; 0 for a sound track.
fn track_size(body: &[u8]) -> Option<(u32, u32)> {
    let at = body.len().checked_sub(8)?;
    let (width, height) = (be32(body, at)? >> 16, be32(body, at + 4)? >> 16);
    (width > 0 && height > 0).then_some((width, height))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boxed(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(body);
        out
    }

    fn tkhd(width: u32, height: u32) -> Vec<u8> {
        let mut body = vec![0u8; 84];
        body[76..80].copy_from_slice(&(width << 16).to_be_bytes());
        body[80..84].copy_from_slice(&(height << 16).to_be_bytes());
        boxed(b"tkhd", &body)
    }

    #[test]
    fn an_mp4_tells_its_length_and_frame_size() {
        let mut mvhd = vec![0u8; 100];
        mvhd[12..16].copy_from_slice(&1000u32.to_be_bytes());
        mvhd[16..20].copy_from_slice(&5042u32.to_be_bytes());
        let sound = boxed(b"trak", &tkhd(0, 0));
        let picture = boxed(b"trak", &tkhd(1280, 720));
        let moov = boxed(b"moov", &[boxed(b"mvhd", &mvhd), sound, picture].concat());
        let file = [boxed(b"ftyp", b"isom\0\0\x02\0"), moov, boxed(b"mdat", &[7; 32])].concat();
        let facts = facts(&file, "video/mp4").expect("readable");
        assert_eq!(facts, MediaFacts { width: 1280, height: 720, duration_ms: Some(5042) });
        assert_eq!(super::facts(b"not a video", "video/mp4"), None);
        assert_eq!(super::facts(&file[..40], "video/mp4"), None, "a cut file");
    }
}
