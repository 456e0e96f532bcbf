//! The GraphQL multipart request spec (file uploads), read in two steps so that nothing costly
//! happens for a request that will be refused: [`begin`] reads only `operations` and `map` (small,
//! capped), which tells how many files follow; the caller checks who asks and whether the
//! operation may take them; only then [`Incoming::read_files`] streams each file, capped as it
//! streams, into a temporary file of its own. Files are counted exactly: a part the map does
//! not name, or one more than the limit, refuses the request.

use std::collections::HashMap;

use async_graphql::UploadValue;
use axum::body::Body;
use futures_util::TryStreamExt;
use tokio::io::AsyncWriteExt;

/// `operations` and `map` are JSON that names files; they never need more than this.
const MAX_OPERATIONS_BYTES: u64 = 1024 * 1024;
const MAX_MAP_BYTES: u64 = 64 * 1024;

#[derive(Clone, Copy, Debug)]
pub struct UploadLimits {
    pub max_files: usize,
    pub max_file_bytes: u64,
}

impl UploadLimits {
    /// The whole request: every file at its largest, plus the JSON and the part headers.
    pub fn max_request_bytes(&self) -> u64 {
        self.max_files as u64 * self.max_file_bytes + MAX_OPERATIONS_BYTES + MAX_MAP_BYTES + 64 * 1024
    }
}

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("{0}")]
    TooLarge(String),
    #[error("not a valid multipart GraphQL request: {0}")]
    Invalid(String),
    #[error("reading the upload failed: {0}")]
    Io(#[from] std::io::Error),
}

/// A multipart request whose `operations` and `map` have been read, and whose files have not.
pub struct Incoming {
    pub request: async_graphql::Request,
    /// File part name → the variable paths it fills.
    map: HashMap<String, Vec<String>>,
    multipart: multer::Multipart<'static>,
}

pub async fn begin(content_type: &str, body: Body, limits: UploadLimits) -> Result<Incoming, UploadError> {
    let boundary = multer::parse_boundary(content_type).map_err(|e| UploadError::Invalid(e.to_string()))?;
    let size = multer::SizeLimit::new()
        .whole_stream(limits.max_request_bytes())
        .per_field(limits.max_file_bytes)
        .for_field("operations", MAX_OPERATIONS_BYTES)
        .for_field("map", MAX_MAP_BYTES);
    let stream = body.into_data_stream().map_err(std::io::Error::other);
    let mut multipart =
        multer::Multipart::with_constraints(stream, boundary, multer::Constraints::new().size_limit(size));
    let operations = text_field(&mut multipart, "operations").await?;
    let request: async_graphql::Request = serde_json::from_str(&operations)
        .map_err(|e| UploadError::Invalid(format!("operations must be one GraphQL request: {e}")))?;
    let map: HashMap<String, Vec<String>> = serde_json::from_str(&text_field(&mut multipart, "map").await?)
        .map_err(|e| UploadError::Invalid(format!("map must name each file's variables: {e}")))?;
    if map.len() > limits.max_files {
        return Err(UploadError::TooLarge(format!(
            "at most {} files per request; this one has {}",
            limits.max_files,
            map.len()
        )));
    }
    Ok(Incoming { request, map, multipart })
}

impl Incoming {
    /// How many files the request announces.
    pub fn file_count(&self) -> usize {
        self.map.len()
    }

    /// The request was refused after its head: the answer goes out at once, while the rest of
    /// the body is read and dropped for a little while (up to a file's worth, ten seconds), so
    /// that an ordinary client, still sending, reads the answer instead of a reset connection.
    /// Beyond that the connection is closed on it.
    pub fn absorb_rest(mut self, limit: u64) {
        tokio::spawn(async move {
            let absorb = async {
                let mut absorbed = 0u64;
                while let Ok(Some(mut field)) = self.multipart.next_field().await {
                    while let Ok(Some(chunk)) = field.chunk().await {
                        absorbed += chunk.len() as u64;
                        if absorbed > limit {
                            return;
                        }
                    }
                }
            };
            let _ = tokio::time::timeout(std::time::Duration::from_secs(10), absorb).await;
        });
    }

    /// Streams each file into a temporary file and puts it where the map says.
    pub async fn read_files(mut self) -> Result<async_graphql::Request, UploadError> {
        let mut request = self.request;
        while let Some(mut field) = self.multipart.next_field().await.map_err(refusal)? {
            let name = field.name().unwrap_or_default().to_owned();
            let Some(paths) = self.map.remove(&name) else {
                return Err(UploadError::Invalid(format!("the part {name:?} is not in the map, or came twice")));
            };
            let filename = field.file_name().unwrap_or_default().to_owned();
            let content_type = field.content_type().map(ToString::to_string);
            let mut file = tokio::fs::File::from_std(tempfile::tempfile()?);
            while let Some(chunk) = field.chunk().await.map_err(refusal)? {
                file.write_all(&chunk).await?;
            }
            file.flush().await?;
            let file = file.into_std().await;
            for path in paths {
                let value = UploadValue {
                    filename: filename.clone(),
                    content_type: content_type.clone(),
                    content: file.try_clone()?,
                };
                request.set_upload(&path, value);
            }
        }
        match self.map.keys().next() {
            Some(missing) => Err(UploadError::Invalid(format!("the file {missing:?} named in the map never came"))),
            None => Ok(request),
        }
    }
}

async fn text_field(multipart: &mut multer::Multipart<'static>, expected: &str) -> Result<String, UploadError> {
    let field = multipart.next_field().await.map_err(refusal)?;
    match field {
        Some(field) if field.name() == Some(expected) => field.text().await.map_err(refusal),
        _ => Err(UploadError::Invalid(format!(
            "the {expected:?} part must come {}",
            if expected == "map" { "second" } else { "first" }
        ))),
    }
}

fn refusal(error: multer::Error) -> UploadError {
    match error {
        multer::Error::FieldSizeExceeded { limit, field_name } => {
            let name = field_name.unwrap_or_default();
            UploadError::TooLarge(format!("the part {name:?} is larger than {}", megabytes(limit)))
        }
        multer::Error::StreamSizeExceeded { limit } => {
            UploadError::TooLarge(format!("the request is larger than {}", megabytes(limit)))
        }
        other => UploadError::Invalid(other.to_string()),
    }
}

fn megabytes(bytes: u64) -> String {
    format!("{:.0} MB", bytes as f64 / 1_048_576.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: UploadLimits = UploadLimits { max_files: 3, max_file_bytes: 64 };

    async fn parse(body: Vec<u8>) -> Result<usize, UploadError> {
        let incoming = begin("multipart/form-data; boundary=B", Body::from(body), LIMITS).await?;
        let files = incoming.file_count();
        incoming.read_files().await?;
        Ok(files)
    }

    proptest::proptest! {
        /// Whatever the body, the reader answers with a request or an error: no panic, and
        /// never more files than the limit.
        #[test]
        fn any_body_is_read_or_refused(body in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
            let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
            if let Ok(files) = runtime.block_on(parse(body)) {
                proptest::prop_assert!(files <= LIMITS.max_files);
            }
        }

        /// Well-formed requests with arbitrary maps: more files than allowed, parts the map
        /// does not name, or a file over its cap, are refused.
        #[test]
        fn maps_are_counted_exactly(named in 0usize..6, sent in 0usize..6, size in 0usize..100) {
            let map: serde_json::Map<String, serde_json::Value> =
                (0..named).map(|i| (i.to_string(), serde_json::json!([format!("variables.f.{i}")]))).collect();
            let mut body = format!(
                "--B\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{{\"query\":\"{{ __typename }}\"}}\r\n\
                 --B\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n{}\r\n",
                serde_json::Value::Object(map)
            ).into_bytes();
            for i in 0..sent {
                body.extend(format!("--B\r\nContent-Disposition: form-data; name=\"{i}\"; filename=\"f\"\r\n\r\n").into_bytes());
                body.extend(std::iter::repeat_n(b'x', size));
                body.extend(b"\r\n");
            }
            body.extend(b"--B--\r\n");
            let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
            let accepted = runtime.block_on(parse(body)).is_ok();
            let fits = named <= LIMITS.max_files && sent == named && (sent == 0 || size as u64 <= LIMITS.max_file_bytes);
            proptest::prop_assert_eq!(accepted, fits);
        }
    }
}
