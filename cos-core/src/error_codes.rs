//! The list of a crate's error codes, generated with its `code()` match.
//!
//! Every cos library crate declares its one error enum with
//! [`error_enum!`](crate::error_enum): each variant is written once with its
//! stable code (`=> "invalid_digest"`), and the macro generates both
//! `Error::code()` and `Error::CODES`, so that a variant cannot lack a code
//! and the list cannot hold a code that no variant returns (pydantic-core's
//! `list_all_errors()` is the model). `docs/error-codes.md` is generated from
//! these lists (`tests/tests/error_codes.rs`).
//!
//! ```
//! use cos_core::Error;
//! let err = "sha1:abc".parse::<cos_core::Digest>().unwrap_err();
//! assert_eq!(err.code(), "unsupported_algorithm");
//! assert!(Error::CODES.iter().any(|c| c.code == err.code()));
//! ```

/// One error code of a crate: the code, the variant that returns it and
/// the variant's doc comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorCode {
    /// The stable code (`invalid_digest`), as `code()` returns it.
    pub code: &'static str,
    /// The variant (`Error::InvalidDigest`, `DlpError::Pattern`).
    pub variant: &'static str,
    /// The variant's doc comment, one line of text per doc line.
    pub doc: &'static str,
}

impl ErrorCode {
    /// The doc comment as one line: lines joined with spaces, rustdoc link
    /// targets dropped (`` [`X`](crate::X) `` becomes `` `X` ``).
    pub fn meaning(&self) -> String {
        let joined = self
            .doc
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        let mut out = String::with_capacity(joined.len());
        let mut rest = joined.as_str();
        while let Some(i) = rest.find("](") {
            let Some(end) = rest[i..].find(')') else {
                break;
            };
            let before = &rest[..i];
            let open = before.rfind('[').unwrap_or(before.len());
            out.push_str(&before[..open]);
            out.push_str(before.get(open + 1..).unwrap_or_default());
            rest = &rest[i + end + 1..];
        }
        out.push_str(rest);
        // Intra-doc links without a target: [`X`] becomes `X`.
        out.replace("[`", "`").replace("`]", "`")
    }
}

/// What is wrong with a crate's code list (empty when nothing is): a code
/// that is not snake_case, a variant without a doc comment, or a code that
/// two variants share unless `shared` names it (a code kept for a variant
/// that moved into a sub-domain error, e.g. `limit_exceeded`). Each crate's
/// tests assert that this is empty for its `Error::CODES`.
pub fn problems(codes: &[ErrorCode], shared: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for (i, c) in codes.iter().enumerate() {
        let snake = !c.code.is_empty()
            && c.code.starts_with(|ch: char| ch.is_ascii_lowercase())
            && c.code
                .chars()
                .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_');
        if !snake {
            out.push(format!(
                "{}: code {:?} is not snake_case",
                c.variant, c.code
            ));
        }
        if c.meaning().is_empty() {
            out.push(format!("{}: no doc comment", c.variant));
        }
        for d in &codes[..i] {
            if d.variant == c.variant {
                out.push(format!("{} is listed twice", c.variant));
            } else if d.code == c.code && !shared.contains(&c.code) {
                out.push(format!(
                    "{} and {} share the code {:?}",
                    d.variant, c.variant, c.code
                ));
            }
        }
    }
    for s in shared {
        if codes.iter().filter(|c| c.code == *s).count() < 2 {
            out.push(format!("{s:?} is declared shared but is not"));
        }
    }
    out
}

/// The number of codes in `parts` (for [`error_enum!`](crate::error_enum)).
#[doc(hidden)]
pub const fn total(parts: &[&[ErrorCode]]) -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < parts.len() {
        n += parts[i].len();
        i += 1;
    }
    n
}

/// `parts` as one array (for [`error_enum!`](crate::error_enum)); `N` is
/// [`total`] of them.
#[doc(hidden)]
pub const fn concat<const N: usize>(parts: &[&[ErrorCode]]) -> [ErrorCode; N] {
    const EMPTY: ErrorCode = ErrorCode {
        code: "",
        variant: "",
        doc: "",
    };
    let mut out = [EMPTY; N];
    let mut n = 0;
    let mut i = 0;
    while i < parts.len() {
        let mut j = 0;
        while j < parts[i].len() {
            out[n] = parts[i][j];
            n += 1;
            j += 1;
        }
        i += 1;
    }
    out
}

/// Declares a crate's error enum with a stable code per variant, and
/// generates `code()` and `CODES` from the same table.
///
/// Each flat variant carries its doc comment, its `#[error(...)]` message and
/// `=> "code"`. Then, optionally, `nested { ... }` lists sub-domain errors
/// of the same crate (`Dlp(DlpError)`: `code()` is the inner error's, and
/// the inner `CODES` are part of this enum's `CODES`), and `foreign { ... }`
/// errors of another crate (`Core(cos_core::Error)`: `code()` is the inner
/// error's; its codes are listed by that crate). Both are written with
/// `#[error(transparent)]` (written out, so that thiserror's bindings keep
/// the caller's hygiene) and get `#[from]`, so `?` converts.
///
/// ```
/// cos_core::error_enum! {
///     /// What can go wrong here.
///     #[derive(Debug, thiserror::Error)]
///     #[non_exhaustive]
///     pub enum Error {
///         /// A name is empty.
///         #[error("empty name")]
///         EmptyName => "empty_name",
///         /// A count is too large.
///         #[error("{count} is more than {limit}")]
///         TooMany {
///             /// The count.
///             count: usize,
///             /// The limit.
///             limit: usize,
///         } => "too_many",
///     }
///     foreign {
///         /// An error from `cos-core`.
///         #[error(transparent)]
///         Core(cos_core::Error),
///     }
/// }
/// assert_eq!(Error::TooMany { count: 2, limit: 1 }.code(), "too_many");
/// assert_eq!(Error::CODES.len(), 2);
/// assert_eq!(Error::CODES[0].variant, "Error::EmptyName");
/// ```
#[macro_export]
macro_rules! error_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $(
                $(#[doc = $doc:literal])*
                #[error($($msg:tt)*)]
                $variant:ident $({ $($field:tt)* })? => $code:literal,
            )*
        }
        $(nested {
            $(
                $(#[doc = $ndoc:literal])*
                #[error($ntransparent:ident)]
                $nvariant:ident($ninner:ty),
            )*
        })?
        $(foreign {
            $(
                $(#[doc = $fdoc:literal])*
                #[error($ftransparent:ident)]
                $fvariant:ident($finner:ty),
            )*
        })?
    ) => {
        $(#[$meta])*
        $vis enum $name {
            $(
                $(#[doc = $doc])*
                #[error($($msg)*)]
                $variant $({ $($field)* })?,
            )*
            $($(
                $(#[doc = $ndoc])*
                #[error($ntransparent)]
                $nvariant(#[from] $ninner),
            )*)?
            $($(
                $(#[doc = $fdoc])*
                #[error($ftransparent)]
                $fvariant(#[from] $finner),
            )*)?
        }

        impl $name {
            /// Every code [`Self::code`] can return for an error of this
            /// crate: one entry per variant (and per variant of a nested
            /// sub-domain error), with the variant's doc comment.
            /// `docs/error-codes.md` is generated from it.
            pub const CODES: &'static [$crate::ErrorCode] = {
                const PARTS: &[&[$crate::ErrorCode]] = &[
                    &[$(
                        $crate::ErrorCode {
                            code: $code,
                            variant: concat!(stringify!($name), "::", stringify!($variant)),
                            doc: concat!($($doc, "\n",)*),
                        },
                    )*],
                    $($(<$ninner>::CODES,)*)?
                ];
                const N: usize = $crate::error_codes::total(PARTS);
                const ALL: [$crate::ErrorCode; N] = $crate::error_codes::concat(PARTS);
                &ALL
            };

            /// A stable, machine-readable code for this error, exposed by
            /// the bindings; every one is listed in [`Self::CODES`].
            pub fn code(&self) -> &'static str {
                match self {
                    $(Self::$variant { .. } => $code,)*
                    $($(Self::$nvariant(e) => e.code(),)*)?
                    $($(Self::$fvariant(e) => e.code(),)*)?
                }
            }
        }
    };
}
