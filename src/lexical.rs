//! A lexical pass over the raw body text, for what a parsed `Value` has forgotten:
//! how numbers were spelled (`23058` vs `23058.0`), whether non-ASCII was `\u`-escaped,
//! whether the body was pretty-printed. Runs only on text serde_json already accepted,
//! and keeps its own stack, so depth cannot overflow it.

/// One number token and where it stands.
#[derive(Debug, Clone, PartialEq)]
pub struct NumberToken {
    /// JSON Pointer to the number (e.g. `/EventData/Duration`).
    pub pointer: String,
    /// The number as written.
    pub text: String,
}

/// A string holding an escape the real sender would not write.
#[derive(Debug, Clone, PartialEq)]
pub struct ForeignEscape {
    /// Where the string is.
    pub pointer: String,
    /// Its first such escape, as written (`\u0026`).
    pub escape: String,
}

/// What the lexical pass saw.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Lexical {
    /// Numbers written with a fraction or an exponent.
    pub non_integer_numbers: Vec<NumberToken>,
    /// Strings (values, or keys: the pointer then ends at that key) holding a `\uXXXX`
    /// escape of a character the real sender writes raw (any non-ASCII, and ASCII such
    /// as `&`, `<`, `>`).
    pub foreign_escapes: Vec<ForeignEscape>,
    /// Whitespace between tokens (the real sender writes compact JSON). Whitespace
    /// before or after the value is not counted: a file saved with a final newline
    /// is not a pretty-printed body.
    pub whitespace: bool,
    /// Pointers of keys written twice in one object (receivers disagree on which value
    /// wins; the real sender never repeats a key).
    pub duplicate_keys: Vec<String>,
}

/// A key's text: borrowed from the body when it holds no escape (nearly always), so the
/// scan of a body allocates nothing per key.
type Key<'a> = std::borrow::Cow<'a, str>;

/// Up to this many keys an object's keys are compared one by one; past it (a hostile
/// body may hold a million keys in one object) they go into a set.
const FEW_KEYS: usize = 16;

enum Frame<'a> {
    Object {
        key: Option<Key<'a>>,
        /// Keys so far, in order while few.
        seen: Vec<Key<'a>>,
        /// All keys so far, once there are more than [`FEW_KEYS`].
        many: Option<std::collections::HashSet<Key<'a>>>,
    },
    Array {
        index: usize,
    },
}

impl<'a> Frame<'a> {
    fn object() -> Frame<'a> {
        Frame::Object {
            key: None,
            seen: Vec::new(),
            many: None,
        }
    }
}

/// Notes `k` as the current key of the object on top; true when the object already had it.
fn note_key<'a>(frame: Option<&mut Frame<'a>>, k: Key<'a>) -> bool {
    let Some(Frame::Object { key, seen, many }) = frame else {
        return false;
    };
    let dup = match many {
        Some(set) => !set.insert(k.clone()),
        None if seen.contains(&k) => true,
        None if seen.len() < FEW_KEYS => {
            seen.push(k.clone());
            false
        }
        None => {
            let mut set: std::collections::HashSet<Key<'a>> = seen.drain(..).collect();
            set.insert(k.clone());
            *many = Some(set);
            false
        }
    };
    *key = Some(k);
    dup
}

/// One JSON-pointer reference token (RFC 6901): `~` → `~0`, `/` → `~1`.
pub fn escape_token(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

fn pointer(stack: &[Frame]) -> String {
    let mut p = String::new();
    for f in stack {
        p.push('/');
        match f {
            Frame::Object { key, .. } => p.push_str(&escape_token(key.as_deref().unwrap_or(""))),
            Frame::Array { index } => p.push_str(&index.to_string()),
        }
    }
    p
}

/// The characters Newtonsoft.Json writes as `\uXXXX` by default: control characters
/// without a short escape, and U+0085, U+2028, U+2029. It writes `"` and `\` as `\"` and
/// `\\`, and everything else raw: `&`, `<`, `>` and `'` too (Go's encoding/json writes
/// `\u0026`, `\u003c`, `\u003e`: a value-form deviation), and all non-ASCII.
fn sender_escapes(c: u32) -> bool {
    c < 0x20 || c == 0x85 || c == 0x2028 || c == 0x2029
}

/// Reads a string starting after its opening quote; returns (decoded text when `want`
/// it, the first escape the real sender would not write, index after the closing quote). Only keys are decoded:
/// a value is skipped over without a copy (this runs on every string of every body).
fn read_string(text: &str, mut i: usize, want: bool) -> (Option<Key<'_>>, Option<String>, usize) {
    let b = text.as_bytes();
    let start = i;
    let mut escaped = None;
    let mut plain = true;
    while i < b.len() {
        match b[i] {
            b'"' => break,
            b'\\' if i + 1 < b.len() => {
                plain = false;
                if b[i + 1] == b'u' && i + 6 <= b.len() {
                    let hex = std::str::from_utf8(&b[i + 2..i + 6]).unwrap_or("0");
                    if escaped.is_none() && !sender_escapes(u32::from_str_radix(hex, 16).unwrap_or(0)) {
                        escaped = Some(String::from_utf8_lossy(&b[i..i + 6]).into_owned());
                    }
                    i += 6;
                } else {
                    i += 2;
                }
            }
            _ => i += 1,
        }
    }
    let end = i.min(b.len());
    // `text` is valid JSON, so a string's body without escapes is whole UTF-8.
    let key = want.then(|| match (plain, text.get(start..end)) {
        (true, Some(raw)) => Key::Borrowed(raw),
        _ => Key::Owned(decode(&b[start..end])),
    });
    (key, escaped, end + 1)
}

/// The text of a string's body with its escapes resolved.
fn decode(b: &[u8]) -> String {
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() {
            let e = b[i + 1];
            if e == b'u' && i + 6 <= b.len() {
                let hex = std::str::from_utf8(&b[i + 2..i + 6]).unwrap_or("0");
                // Keys are what pointers need; exact decoding of surrogates is moot.
                if let Some(ch) = char::from_u32(u32::from_str_radix(hex, 16).unwrap_or(0)) {
                    let mut buf = [0; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                i += 6;
            } else {
                out.push(match e {
                    b'n' => b'\n',
                    b't' => b'\t',
                    b'r' => b'\r',
                    b'b' => 8,
                    b'f' => 12,
                    other => other,
                });
                i += 2;
            }
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Scans `text`, which must already be valid JSON.
pub fn scan(text: &str) -> Lexical {
    let b = text.as_bytes();
    let mut lex = Lexical::default();
    let mut stack: Vec<Frame> = Vec::new();
    let mut i = 0;
    // In an object, the next string is a key until a ':' is seen.
    let mut expect_key = false;
    while i < b.len() {
        match b[i] {
            b' ' | b'\t' | b'\n' | b'\r' => {
                lex.whitespace |= !stack.is_empty();
                i += 1;
            }
            b'{' => {
                stack.push(Frame::object());
                expect_key = true;
                i += 1;
            }
            b'[' => {
                stack.push(Frame::Array { index: 0 });
                expect_key = false;
                i += 1;
            }
            b'}' | b']' => {
                stack.pop();
                i += 1;
            }
            b',' => {
                match stack.last_mut() {
                    Some(Frame::Array { index }) => *index += 1,
                    Some(Frame::Object { .. }) => expect_key = true,
                    None => {}
                }
                i += 1;
            }
            b':' => {
                expect_key = false;
                i += 1;
            }
            b'"' => {
                let (s, escaped, next) = read_string(text, i + 1, expect_key);
                if expect_key {
                    let k = s.unwrap_or_default();
                    if note_key(stack.last_mut(), k) {
                        // `pointer` of the whole stack ends in this key, as it should.
                        lex.duplicate_keys.push(pointer(&stack));
                    }
                }
                if let Some(escape) = escaped {
                    lex.foreign_escapes.push(ForeignEscape {
                        pointer: pointer(&stack),
                        escape,
                    });
                }
                i = next;
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < b.len() && matches!(b[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') {
                    i += 1;
                }
                let tok = &text[start..i];
                if tok.contains(['.', 'e', 'E']) {
                    lex.non_integer_numbers.push(NumberToken {
                        pointer: pointer(&stack),
                        text: tok.to_string(),
                    });
                }
            }
            _ => i += 1, // true, false, null
        }
    }
    lex
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_pointers_of_fractional_numbers_and_escapes() {
        let l = scan(r#"{"a":{"b/c":[1,2.0,{"d":3e2}]},"\u4e2d":"x","e":"\u00e9","f":"\u000a"}"#);
        let ptrs: Vec<_> = l.non_integer_numbers.iter().map(|n| n.pointer.as_str()).collect();
        assert_eq!(ptrs, ["/a/b~1c/1", "/a/b~1c/2/d"]);
        let at: Vec<_> = l.foreign_escapes.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(at, ["/中", "/e"]);
        // What was written is quoted, so a finding can show it.
        assert_eq!(l.foreign_escapes[1].escape, r"\u00e9");
        assert!(!l.whitespace);
    }

    #[test]
    fn notices_whitespace_outside_strings_only() {
        assert!(!scan(r#"{"a":"x y"}"#).whitespace);
        assert!(scan("{\"a\": 1}").whitespace);
        assert!(!scan("{\"a\":1}\n").whitespace && !scan(" {}").whitespace);
    }

    #[test]
    fn duplicate_keys_are_found_among_few_and_many_and_escaped() {
        // Few keys: compared one by one; an escaped spelling is the same key.
        let l = scan(r#"{"a":1,"b":{"a":2,"\u0061":3},"a":4}"#);
        assert_eq!(l.duplicate_keys, ["/b/a", "/a"]);
        // Many keys: past the few, a set takes over and still sees the early ones.
        let mut body = String::from("{");
        for k in 0..40 {
            body.push_str(&format!("\"k{k}\":0,"));
        }
        body.push_str(r#""k3":1,"k39":2,"x/y":3,"x/y":4}"#);
        assert_eq!(scan(&body).duplicate_keys, ["/k3", "/k39", "/x~1y"]);
        assert!(scan(r#"{"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}]}"#)
            .duplicate_keys
            .is_empty());
    }
}
