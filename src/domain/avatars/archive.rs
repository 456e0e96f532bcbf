//! The training archive FAL's trainers take (`images_data_url`): a zip of the photos. Photos are
//! already compressed, so entries are stored, not deflated — a few lines instead of a crate.

/// A zip file with these (name, bytes) entries, stored uncompressed.
pub fn zip_stored(entries: &[(String, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in entries {
        let offset = out.len() as u32;
        let crc = crc32fast::hash(data);
        let size = data.len() as u32;
        // Local file header.
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        out.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // version, flags, method 0, time, date
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&size.to_le_bytes());
        out.extend_from_slice(&size.to_le_bytes());
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);
        // Central directory entry.
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&[20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // made by, needed, flags, method, time, date
        central.extend_from_slice(&crc.to_le_bytes());
        central.extend_from_slice(&size.to_le_bytes());
        central.extend_from_slice(&size.to_le_bytes());
        central.extend_from_slice(&(name.len() as u16).to_le_bytes());
        central.extend_from_slice(&[0; 12]); // extra, comment, disk, internal and external attributes
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let central_offset = out.len() as u32;
    out.extend_from_slice(&central);
    // End of central directory.
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&central_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_can_read_the_archive() {
        // Checked against a real zip reader when one is around (CI has Python 3).
        let zip = zip_stored(&[("a.jpg".into(), b"first"), ("b.png".into(), b"second!")]);
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("t.zip");
        std::fs::write(&path, &zip).expect("write");
        let script = "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; \
                      print(','.join(f'{i.filename}={z.read(i).decode()}' for i in z.infolist()))";
        match std::process::Command::new("python3").arg("-c").arg(script).arg(&path).output() {
            Ok(out) if out.status.success() => {
                assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "a.jpg=first,b.png=second!");
            }
            Ok(out) => panic!("python could not read the zip: {}", String::from_utf8_lossy(&out.stderr)),
            Err(_) => {
                // No Python here: at least the structure must be right.
                assert!(zip.starts_with(b"PK\x03\x04"));
                assert!(zip.windows(4).any(|w| w == b"PK\x05\x06"));
            }
        }
    }
}
