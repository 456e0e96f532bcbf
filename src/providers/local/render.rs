//! Draws the local provider's picture: a gradient and soft discs whose colours and places come
//! from a hash of the prompt, the seed and the image's index, and a band that says
//! "LOCAL RENDER - NOT AI" over the prompt's first words. The PNG also carries that in a
//! `Software` text chunk.

use sha2::{Digest, Sha256};

use super::font;

/// A stable 64-bit number from the prompt and the seed.
pub fn seed_of(prompt: &str, seed: Option<i64>) -> u64 {
    let digest = Sha256::digest(format!("{prompt}\u{0}{}", seed.unwrap_or(0)).as_bytes());
    u64::from_le_bytes(digest[..8].try_into().unwrap_or([0; 8]))
}

/// A small, fast, deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn color(&mut self) -> [f32; 3] {
        let v = self.next();
        [(v & 0xFF) as f32, ((v >> 8) & 0xFF) as f32, ((v >> 16) & 0xFF) as f32]
    }

    fn unit(&mut self) -> f32 {
        (self.next() % 10_000) as f32 / 10_000.0
    }
}

/// Renders one PNG of `width × height` pixels.
pub fn render_png(prompt: &str, seed: Option<i64>, index: u8, (width, height): (u32, u32)) -> Vec<u8> {
    let mut rng = Rng(seed_of(prompt, seed) ^ (u64::from(index) + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let (top, bottom) = (rng.color(), rng.color());
    let discs: Vec<(f32, f32, f32, [f32; 3])> = (0..5)
        .map(|_| {
            (
                rng.unit() * width as f32,
                rng.unit() * height as f32,
                (0.1 + rng.unit() * 0.3) * width.min(height) as f32,
                rng.color(),
            )
        })
        .collect();
    let mut pixels = vec![0u8; (width * height * 3) as usize];
    for y in 0..height {
        let t = y as f32 / height.max(1) as f32;
        for x in 0..width {
            let mut c = [0.0f32; 3];
            for i in 0..3 {
                c[i] = top[i] * (1.0 - t) + bottom[i] * t;
            }
            for (cx, cy, r, color) in &discs {
                let d = ((x as f32 - cx).powi(2) + (y as f32 - cy).powi(2)).sqrt();
                if d < *r {
                    let a = 0.55 * (1.0 - d / r);
                    for i in 0..3 {
                        c[i] = c[i] * (1.0 - a) + color[i] * a;
                    }
                }
            }
            let at = ((y * width + x) * 3) as usize;
            pixels[at..at + 3].copy_from_slice(&[c[0] as u8, c[1] as u8, c[2] as u8]);
        }
    }
    draw_label(&mut pixels, width, height, prompt);
    encode(&pixels, width, height)
}

/// A dark band at the bottom with two lines of white text.
pub(super) fn draw_label(pixels: &mut [u8], width: u32, height: u32, prompt: &str) {
    let scale = (width / 200).clamp(1, 6);
    let line = (font::HEIGHT + 3) * scale;
    let band = (line * 2 + 2 * scale).min(height);
    for y in height - band..height {
        for x in 0..width {
            let at = ((y * width + x) * 3) as usize;
            for v in &mut pixels[at..at + 3] {
                *v /= 4;
            }
        }
    }
    let words: String = prompt.chars().map(|c| if c.is_ascii() { c } else { '?' }).take(60).collect();
    let top = height - band + 2 * scale;
    draw_text(pixels, width, height, 2 * scale, top, scale, "LOCAL RENDER - NOT AI");
    draw_text(pixels, width, height, 2 * scale, top + line, scale, &words);
}

fn draw_text(pixels: &mut [u8], width: u32, height: u32, x0: u32, y0: u32, scale: u32, text: &str) {
    for (n, c) in text.chars().enumerate() {
        let gx = x0 + n as u32 * (font::WIDTH + 1) * scale;
        if gx + font::WIDTH * scale >= width {
            break;
        }
        for (row, bits) in font::glyph(c).iter().enumerate() {
            for col in 0..font::WIDTH {
                if bits & (0x10 >> col) == 0 {
                    continue;
                }
                for dy in 0..scale {
                    for dx in 0..scale {
                        let (x, y) = (gx + col * scale + dx, y0 + row as u32 * scale + dy);
                        if x < width && y < height {
                            let at = ((y * width + x) * 3) as usize;
                            pixels[at..at + 3].copy_from_slice(&[255, 255, 255]);
                        }
                    }
                }
            }
        }
    }
}

fn encode(pixels: &[u8], width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    // Encoding into memory can only fail on a size mismatch, which the caller rules out; were
    // it to, the image is empty and the job fails as "an unreadable image".
    let written = encoder
        .add_text_chunk("Software".into(), "AISHA local renderer (not AI)".into())
        .and_then(|()| encoder.write_header())
        .and_then(|mut writer| writer.write_image_data(pixels));
    if let Err(error) = written {
        tracing::error!(%error, width, height, "the local renderer could not encode its PNG");
        out.clear();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_prompt_and_seed_draw_the_same_png() {
        let a = render_png("a red fox", Some(7), 0, (96, 64));
        let b = render_png("a red fox", Some(7), 0, (96, 64));
        let other_seed = render_png("a red fox", Some(8), 0, (96, 64));
        let other_index = render_png("a red fox", Some(7), 1, (96, 64));
        assert_eq!(a, b);
        assert_ne!(a, other_seed);
        assert_ne!(a, other_index);
        assert_eq!(&a[..8], b"\x89PNG\r\n\x1a\n");
        let size = imagesize::blob_size(&a).expect("a readable PNG");
        assert_eq!((size.width, size.height), (96, 64));
    }
}
