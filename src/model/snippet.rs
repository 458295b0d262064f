//! What user-defined models share: WGSL snippets spliced verbatim into a generated kernel,
//! checked by naga, with errors mapped back to the snippet's own lines; and the rules for the
//! names a model declares.
//!
//! A generator writes the kernel into a [`Source`], each snippet through
//! [`Source::push_snippet`], which copies the user's lines one per line of the generated text
//! and remembers where they went. A span naga reports then maps to the snippet's line and
//! column by subtraction, and the error shows that line with a caret under the span.

use crate::error::{invalid, Error, Result};

/// Where a snippet's lines are in the generated source (1-based, inclusive start).
#[derive(Clone, Debug)]
struct Region {
    snippet: &'static str,
    code: String,
    first_line: usize,
    lines: usize,
}

/// Generated WGSL and where each snippet sits in it.
#[derive(Clone, Debug, Default)]
pub(crate) struct Source {
    pub text: String,
    regions: Vec<Region>,
}

/// Who owns the snippets, for error messages: "synapse model" or "neuron model", its name, and
/// a hint that names what a snippet may not write.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Owner<'a> {
    pub what: &'a str,
    pub name: &'a str,
    pub read_only_hint: &'a str,
}

impl Source {
    pub fn push_str(&mut self, s: &str) {
        self.text.push_str(s);
    }

    /// Appends `code` verbatim, on lines of its own, as snippet `snippet`.
    pub fn push_snippet(&mut self, snippet: &'static str, code: &str) {
        if !self.text.is_empty() && !self.text.ends_with('\n') {
            self.text.push('\n');
        }
        let first_line = self.text.matches('\n').count() + 1;
        for line in code.lines() {
            self.text.push_str(line);
            self.text.push('\n');
        }
        if code.lines().count() == 0 {
            self.text.push('\n');
        }
        self.regions.push(Region {
            snippet,
            code: code.into(),
            first_line,
            lines: code.lines().count().max(1),
        });
    }

    /// Parses and validates the source with naga. An error at a span inside a snippet is
    /// reported as `Error::Snippet` in the snippet's own lines; any other means the model's
    /// declarations clash with the generated code.
    pub fn validate(&self, owner: Owner) -> Result<()> {
        let module = naga::front::wgsl::parse_str(&self.text).map_err(|e| {
            let spans: Vec<_> = e.labels().map(|(span, _)| span).collect();
            self.error(owner, e.message(), &spans)
        })?;
        naga::valid::Validator::new(
            naga::valid::ValidationFlags::all(),
            naga::valid::Capabilities::default(),
        )
        .validate(&module)
        .map_err(|e| {
            let spans: Vec<_> = e.spans().map(|(span, _)| *span).collect();
            // The chain of causes, most specific last ("Function ... is invalid: Expression ...").
            let mut message = e.as_inner().to_string();
            let mut cause = std::error::Error::source(e.as_inner());
            while let Some(c) = cause {
                message.push_str(": ");
                message.push_str(&c.to_string());
                cause = c.source();
            }
            self.error(owner, &message, &spans)
        })?;
        Ok(())
    }

    /// An error at the most specific span that falls in a snippet.
    fn error(&self, owner: Owner, message: &str, spans: &[naga::Span]) -> Error {
        let located = spans.iter().rev().find_map(|span| {
            let loc = span.location(&self.text);
            let line = loc.line_number as usize;
            self.regions
                .iter()
                .find(|r| line >= r.first_line && line < r.first_line + r.lines)
                .map(|r| (r, line - r.first_line + 1, loc.line_position as usize, span))
        });
        let Some((region, line, column, span)) = located else {
            return Error::Validation(format!(
                "{} `{}`: its declarations do not compile ({message}); check that no state \
                 variable, parameter or trace is named like a WGSL keyword or type",
                owner.what, owner.name
            ));
        };
        let hint = if message.contains("left-hand side") {
            owner.read_only_hint
        } else {
            ""
        };
        let text = region.code.lines().nth(line - 1).unwrap_or_default();
        let width = span
            .to_range()
            .map_or(1, |r| r.len())
            .clamp(1, text.len().saturating_sub(column - 1).max(1));
        let gutter = " ".repeat(line.to_string().len());
        Error::Snippet {
            model: owner.name.into(),
            snippet: region.snippet.into(),
            line,
            column,
            message: format!(
                "{message}{hint}\n {gutter} |\n {line} | {text}\n {gutter} | {}{}",
                " ".repeat(column - 1),
                "^".repeat(width)
            ),
        }
    }
}

/// Checks the names a model declares: WGSL identifiers, none reserved (`reserved`, or starting
/// with one of `prefixes`), none twice. `names` pairs each name with what it is ("parameter").
pub(crate) fn check_names<'a>(
    owner: Owner,
    names: impl Iterator<Item = (&'a str, &'static str)>,
    reserved: &[&str],
    prefixes: &[&str],
) -> Result<()> {
    let (kind, m) = (owner.what, owner.name);
    let mut seen: Vec<&str> = Vec::new();
    for (name, what) in names {
        let ok = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with("__");
        if !ok {
            return Err(invalid!(
                "{kind} `{m}`: {what} `{name}` is not a WGSL identifier (letters, digits and \
                 `_`, not starting with a digit or `__`)"
            ));
        }
        if reserved.contains(&name) || prefixes.iter().any(|p| name.starts_with(p)) {
            return Err(invalid!(
                "{kind} `{m}`: {what} `{name}` uses a name lamina provides to snippets; \
                 rename it"
            ));
        }
        if seen.contains(&name) {
            return Err(invalid!(
                "{kind} `{m}` declares `{name}` twice; the names it declares must differ"
            ));
        }
        seen.push(name);
    }
    Ok(())
}

/// Refuses a parameter value that is not a finite float32.
pub(crate) fn check_params(owner: Owner, params: &[(String, f64)]) -> Result<()> {
    for (name, v) in params {
        if !crate::model::nef::fits_f32(*v) {
            return Err(invalid!(
                "{} `{}`: parameter `{name}` = {v} is not a finite float32",
                owner.what,
                owner.name
            ));
        }
    }
    Ok(())
}

/// Refuses a snippet that returns: its changes are written back after its last statement.
pub(crate) fn check_no_return(owner: Owner, snippet: &str, code: &str) -> Result<()> {
    let has_return = code
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .any(|word| word == "return");
    if has_return {
        return Err(invalid!(
            "{} `{}`, {snippet}: a snippet may not `return` (its changes are written back \
             after its last statement); use if/else instead",
            owner.what,
            owner.name
        ));
    }
    Ok(())
}
