//! Local "video": downloads the picture like FAL would and animates it into a looping GIF — a
//! slow push-in (a Ken Burns zoom) over the clip's length, with the band that says it is not
//! AI. Small (160 px, 4 frames a second) but a real clip, so the whole video flow runs offline.

use bytes::Bytes;

use super::render;
use crate::domain::generations::AspectRatio;
use crate::providers::{ProducedFile, ProviderError, Verdict, VideoSpec};

/// The long side of a local clip, its frame rate, and how far it zooms in by the end.
const LONG_SIDE: u32 = 160;
const FRAMES_PER_SECOND: u32 = 4;
const ZOOM: f32 = 0.2;

/// A picture as RGB pixels.
struct Picture {
    width: u32,
    height: u32,
    rgb: Vec<u8>,
}

pub async fn animate(
    http: &reqwest::Client,
    video: &VideoSpec,
    prompt: &str,
    ratio: AspectRatio,
) -> Result<ProducedFile, ProviderError> {
    let bytes = super::fetch_input(http, &video.image_url, "the picture to animate").await?;
    let (prompt, seconds) = (prompt.to_owned(), video.seconds.clamp(1, 10));
    let clip = tokio::task::spawn_blocking(move || {
        // A picture we cannot decode (a JPEG from FAL) is drawn anew from the prompt.
        let picture = decode_png(&bytes).unwrap_or_else(|| {
            let png = render::render_png(&prompt, None, 0, ratio.size(LONG_SIDE));
            decode_png(&png).unwrap_or(Picture { width: 1, height: 1, rgb: vec![0; 3] })
        });
        encode_gif(&shrink(&picture), &prompt, seconds)
    })
    .await
    .map_err(|e| ProviderError::Failed(format!("animating panicked: {e}")))?;
    let (bytes, duration_ms) = clip.map_err(ProviderError::Failed)?;
    Ok(ProducedFile {
        bytes: Bytes::from(bytes),
        content_type: "image/gif".into(),
        verdict: Verdict::Passed,
        duration_ms: Some(duration_ms),
    })
}

fn decode_png(bytes: &[u8]) -> Option<Picture> {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().ok()?;
    let mut buffer = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buffer).ok()?;
    let channels = match info.color_type {
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Indexed => return None,
    };
    let pixels = &buffer[..info.buffer_size()];
    let rgb = pixels
        .chunks_exact(channels)
        .flat_map(|p| if channels >= 3 { [p[0], p[1], p[2]] } else { [p[0]; 3] })
        .collect();
    Some(Picture { width: info.width, height: info.height, rgb })
}

/// The picture at most [`LONG_SIDE`] pixels long (nearest neighbour: it is a stand-in).
fn shrink(picture: &Picture) -> Picture {
    let scale = (LONG_SIDE as f32 / picture.width.max(picture.height) as f32).min(1.0);
    let width = ((picture.width as f32 * scale) as u32).max(1);
    let height = ((picture.height as f32 * scale) as u32).max(1);
    sample(picture, width, height, 1.0)
}

/// `width × height` pixels of the picture's centre, `zoom` times enlarged.
fn sample(picture: &Picture, width: u32, height: u32, zoom: f32) -> Picture {
    let mut rgb = Vec::with_capacity((width * height * 3) as usize);
    let (sx, sy) = (picture.width as f32 / width as f32 / zoom, picture.height as f32 / height as f32 / zoom);
    let (ox, oy) = (picture.width as f32 * (1.0 - 1.0 / zoom) / 2.0, picture.height as f32 * (1.0 - 1.0 / zoom) / 2.0);
    for y in 0..height {
        for x in 0..width {
            let px = ((ox + x as f32 * sx) as u32).min(picture.width - 1);
            let py = ((oy + y as f32 * sy) as u32).min(picture.height - 1);
            let at = ((py * picture.width + px) * 3) as usize;
            rgb.extend_from_slice(&picture.rgb[at..at + 3]);
        }
    }
    Picture { width, height, rgb }
}

/// The looping GIF and its length in milliseconds.
fn encode_gif(picture: &Picture, prompt: &str, seconds: u32) -> Result<(Vec<u8>, u32), String> {
    let frames = seconds * FRAMES_PER_SECOND;
    let delay_cs = (100 / FRAMES_PER_SECOND) as u16;
    let (width, height) = (picture.width as u16, picture.height as u16);
    let mut out = Vec::new();
    {
        let mut encoder = gif::Encoder::new(&mut out, width, height, &[]).map_err(|e| e.to_string())?;
        encoder.set_repeat(gif::Repeat::Infinite).map_err(|e| e.to_string())?;
        for index in 0..frames {
            let zoom = 1.0 + ZOOM * index as f32 / (frames - 1).max(1) as f32;
            let mut frame = sample(picture, picture.width, picture.height, zoom);
            render::draw_label(&mut frame.rgb, frame.width, frame.height, prompt);
            let mut frame = gif::Frame::from_rgb_speed(width, height, &frame.rgb, 30);
            frame.delay = delay_cs;
            encoder.write_frame(&frame).map_err(|e| e.to_string())?;
        }
    }
    Ok((out, frames * u32::from(delay_cs) * 10))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_picture_becomes_a_looping_gif_of_the_clips_length() {
        let png = render::render_png("a fox", Some(1), 0, (320, 180));
        let picture = shrink(&decode_png(&png).expect("our own PNG decodes"));
        assert_eq!((picture.width, picture.height), (160, 90));
        let (clip, duration_ms) = encode_gif(&picture, "a fox", 2).expect("encodes");
        assert_eq!(duration_ms, 2000);
        assert_eq!(&clip[..6], b"GIF89a");
        let size = imagesize::blob_size(&clip).expect("a readable GIF");
        assert_eq!((size.width, size.height), (160, 90));
        let frames = gif::DecodeOptions::new().read_info(std::io::Cursor::new(&clip)).expect("decodes");
        assert_eq!(frames.into_iter().count(), 8, "4 frames a second");
    }
}
