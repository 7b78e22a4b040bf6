//! The layout rules of `src/`, read from the source itself: no import
//! circle between modules, the browser's code never names the server, the
//! server functions hold no SQL, and no file grows past 400 lines without
//! its opening comment saying why.
//!
//! Every `use` line and every `crate::`/`super::`/`self::` path (and a
//! path through a child module a file declares) is an edge from the file
//! to the module file it names; comments and string literals are skipped.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const MAX_LINES: usize = 400;

/// One source file: its module path (`server::store::db`) and its text
/// without comments and string literals.
struct Source {
    module: Vec<String>,
    path: PathBuf,
    code: String,
    lines: usize,
    opening_comment: String,
}

fn sources() -> Vec<Source> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    collect(&root, &mut files);
    files
        .into_iter()
        // The binary is its own crate: it can only call the library.
        .filter(|p| p.file_name().is_some_and(|n| n != "main.rs"))
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("read source");
            let relative = path.strip_prefix(&root).expect("inside src");
            let mut module: Vec<String> = relative
                .with_extension("")
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if matches!(module.last().map(String::as_str), Some("mod" | "lib")) {
                module.pop();
            }
            let opening_comment = text
                .lines()
                .take_while(|l| l.starts_with("//!"))
                .collect::<Vec<_>>()
                .join("\n");
            Source {
                module,
                lines: text.lines().count(),
                code: strip(&text),
                opening_comment,
                path: relative.to_path_buf(),
            }
        })
        .collect()
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code without comments, string and char literals (kept as `""`), so
/// a path in a doc comment or a message is not an import.
fn strip(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let mut depth = 0;
                while i < b.len() {
                    if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                        depth += 1;
                        i += 2;
                    } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
            }
            b'r' if b.get(i + 1) == Some(&b'#') || b.get(i + 1) == Some(&b'"') => {
                // A raw string r"..." or r#"..."#, unless `r` ends a name.
                let ident_before = i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
                let mut j = i + 1;
                let mut hashes = 0;
                while b.get(j) == Some(&b'#') {
                    hashes += 1;
                    j += 1;
                }
                if ident_before || b.get(j) != Some(&b'"') {
                    out.push('r');
                    i += 1;
                    continue;
                }
                j += 1;
                let close: Vec<u8> = std::iter::once(b'"')
                    .chain(std::iter::repeat_n(b'#', hashes))
                    .collect();
                while j < b.len() && !b[j..].starts_with(&close) {
                    j += 1;
                }
                out.push_str("\"\"");
                i = j + close.len();
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                out.push_str("\"\"");
                i += 1;
            }
            b'\'' => {
                // A char literal ('a', '\n', '\''), or a lifetime ('a).
                let end = if b.get(i + 1) == Some(&b'\\') {
                    b[i + 2..]
                        .iter()
                        .position(|&c| c == b'\'')
                        .map(|p| i + 2 + p)
                } else if b.get(i + 2) == Some(&b'\'') {
                    Some(i + 2)
                } else {
                    None
                };
                match end {
                    Some(end) => {
                        out.push_str("' '");
                        i = end + 1;
                    }
                    None => {
                        out.push('\'');
                        i += 1;
                    }
                }
            }
            c => {
                out.push(c as char);
                i += 1;
            }
        }
    }
    out
}

/// Every path a file names, with the number of inline modules (`mod x {
/// ... }`) around it: the expanded trees of its `use` items, and inline
/// paths from `crate::`, `super::`, `self::` or a child module.
fn paths(code: &str, children: &BTreeSet<&str>) -> Vec<(usize, String)> {
    let inline = inline_modules(code);
    let depth = |at: usize| inline.iter().filter(|(s, e)| *s <= at && at < *e).count();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(p) = find_word(&code[from..], "use") {
        let at = from + p;
        let after = &code[at + 3..];
        let Some(end) = after.find(';') else { break };
        let mut tree = after[..end]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        for tight in ["::", "{", "}", ","] {
            tree = tree
                .replace(&format!(" {tight}"), tight)
                .replace(&format!("{tight} "), tight);
        }
        let mut found = Vec::new();
        expand(&tree, "", &mut found);
        out.extend(found.into_iter().map(|path| (depth(at), path)));
        from = at + 3 + end;
    }
    let b = code.as_bytes();
    let starts = ["crate", "super", "self"]
        .into_iter()
        .chain(children.iter().copied())
        .map(|s| format!("{s}::"));
    for start in starts {
        let mut from = 0;
        while let Some(p) = code[from..].find(&start) {
            let at = from + p;
            from = at + start.len();
            if at > 0
                && (b[at - 1].is_ascii_alphanumeric() || b[at - 1] == b'_' || b[at - 1] == b':')
            {
                continue;
            }
            let len = code[at..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(code.len() - at);
            out.push((
                depth(at),
                code[at..at + len].trim_end_matches(':').to_string(),
            ));
        }
    }
    out
}

/// The byte ranges of the inline modules (`mod tests { ... }`) of a file.
fn inline_modules(code: &str) -> Vec<(usize, usize)> {
    let b = code.as_bytes();
    let mut regions = Vec::new();
    let mut from = 0;
    while let Some(p) = find_word(&code[from..], "mod") {
        let at = from + p;
        from = at + 3;
        let rest = &code[at + 3..];
        let name_len = rest
            .trim_start()
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(0);
        let after_name = rest.trim_start()[name_len..].trim_start();
        if name_len == 0 || !after_name.starts_with('{') {
            continue;
        }
        let open = code.len() - after_name.len();
        let mut depth = 0;
        let mut end = code.len();
        for (i, &c) in b.iter().enumerate().skip(open) {
            match c {
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i;
                        break;
                    }
                }
                _ => {}
            }
        }
        regions.push((open, end));
    }
    regions
}

fn find_word(text: &str, word: &str) -> Option<usize> {
    let b = text.as_bytes();
    let mut from = 0;
    while let Some(p) = text[from..].find(word) {
        let at = from + p;
        let before_ok = at == 0 || !(b[at - 1].is_ascii_alphanumeric() || b[at - 1] == b'_');
        let after_ok = b
            .get(at + word.len())
            .is_some_and(|c| c.is_ascii_whitespace());
        if before_ok && after_ok {
            return Some(at);
        }
        from = at + word.len();
    }
    None
}

/// `a::{b, c::{d, self}}` into `a::b`, `a::c::d`, `a::c`.
fn expand(tree: &str, prefix: &str, out: &mut Vec<String>) {
    let join = |p: &str, s: &str| {
        if p.is_empty() {
            s.to_string()
        } else {
            format!("{p}::{s}")
        }
    };
    match tree.find('{') {
        None => {
            let leaf = tree.split(" as ").next().unwrap_or(tree);
            let leaf = leaf.trim_end_matches("::*");
            match leaf {
                "self" => out.push(prefix.to_string()),
                "*" | "" => out.push(prefix.to_string()),
                _ => out.push(join(prefix, leaf)),
            }
        }
        Some(open) => {
            let head = tree[..open].trim_end_matches("::");
            let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
            let prefix = join(prefix, head);
            let mut depth = 0;
            let mut start = 0;
            for (i, c) in inner.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        expand(&inner[start..i], &prefix, out);
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            if start < inner.len() {
                expand(&inner[start..], &prefix, out);
            }
        }
    }
}

/// The module files' dependencies on one another.
fn graph(sources: &[Source]) -> BTreeMap<String, BTreeSet<String>> {
    let modules: BTreeSet<Vec<String>> = sources.iter().map(|s| s.module.clone()).collect();
    let name = |m: &[String]| {
        if m.is_empty() {
            "crate".to_string()
        } else {
            m.join("::")
        }
    };
    let mut edges = BTreeMap::new();
    for s in sources {
        let children: BTreeSet<&str> = modules
            .iter()
            .filter(|m| m.len() == s.module.len() + 1 && m.starts_with(&s.module))
            .filter_map(|m| m.last().map(String::as_str))
            .collect();
        let mut to = BTreeSet::new();
        for (inside, path) in paths(&s.code, &children) {
            let mut parts: Vec<&str> = path.split("::").filter(|p| !p.is_empty()).collect();
            // `super` inside an inline module first climbs out of it.
            let mut inside = inside;
            while inside > 0 && parts.first() == Some(&"super") {
                parts.remove(0);
                inside -= 1;
            }
            if inside > 0 && matches!(parts.first().copied(), Some("self")) {
                continue;
            }
            if parts.is_empty() {
                continue;
            }
            let mut base: Vec<String> = match parts.first().copied() {
                Some("crate") => {
                    parts.remove(0);
                    Vec::new()
                }
                Some("self") => {
                    parts.remove(0);
                    s.module.clone()
                }
                Some("super") => {
                    let mut base = s.module.clone();
                    while parts.first() == Some(&"super") {
                        parts.remove(0);
                        base.pop();
                    }
                    base
                }
                Some(first) if children.contains(first) => s.module.clone(),
                _ => continue,
            };
            base.extend(parts.iter().map(|p| p.to_string()));
            // The longest prefix that is a module file.
            while !base.is_empty() && !modules.contains(&base) {
                base.pop();
            }
            if base != s.module {
                to.insert(name(&base));
            }
        }
        edges.insert(name(&s.module), to);
    }
    edges
}

/// Import circles: the strongly connected components with more than one
/// module (Tarjan).
fn circles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct Walk<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: Vec<Vec<String>>,
    }
    impl<'a> Walk<'a> {
        fn visit(&mut self, v: &'a str) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            self.on_stack.insert(v);
            for w in self.edges.get(v).into_iter().flatten() {
                if !self.index.contains_key(w.as_str()) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w.as_str()]);
                    self.low.insert(v, low);
                } else if self.on_stack.contains(w.as_str()) {
                    let low = self.low[v].min(self.index[w.as_str()]);
                    self.low.insert(v, low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(w);
                    component.push(w.to_string());
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.found.push(component);
                }
            }
        }
    }
    let mut walk = Walk {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in edges.keys() {
        if !walk.index.contains_key(v.as_str()) {
            walk.visit(v);
        }
    }
    walk.found
}

#[test]
fn no_module_imports_itself_through_others() {
    let sources = sources();
    let edges = graph(&sources);
    assert!(edges.len() > 40, "found only {} modules", edges.len());
    // The reader finds what it must: the engine names the store.
    assert!(edges["server::engine::runner"].contains("server::store::changes"));
    let found: Vec<Vec<String>> = circles(&edges)
        .into_iter()
        .map(|circle| {
            // Each edge inside the circle, to show where to cut it.
            let inside: BTreeSet<&String> = circle.iter().collect();
            circle
                .iter()
                .flat_map(|from| {
                    edges[from]
                        .iter()
                        .filter(|to| inside.contains(to))
                        .map(move |to| format!("{from} -> {to}"))
                })
                .collect()
        })
        .collect();
    assert!(found.is_empty(), "import circles: {found:#?}");
}

#[test]
fn the_reader_sees_a_circle_when_there_is_one() {
    let a = Source {
        module: vec!["a".into()],
        path: "a.rs".into(),
        code: strip("use crate::b::Thing; // use crate::c;\n"),
        lines: 1,
        opening_comment: String::new(),
    };
    let b = Source {
        module: vec!["b".into()],
        path: "b.rs".into(),
        code: strip("fn f() { let s = \"crate::c\"; super::a::g(); }"),
        lines: 1,
        opening_comment: String::new(),
    };
    let c = Source {
        module: vec!["c".into()],
        path: "c.rs".into(),
        code: String::new(),
        lines: 0,
        opening_comment: String::new(),
    };
    let edges = graph(&[a, b, c]);
    assert_eq!(
        circles(&edges),
        vec![vec!["a".to_string(), "b".to_string()]]
    );
    assert!(
        edges["a"].iter().all(|e| e != "c"),
        "comments are not imports"
    );
    assert!(
        edges["b"].iter().all(|e| e != "c"),
        "strings are not imports"
    );
}

#[test]
fn use_trees_expand_to_every_path() {
    let mut out = Vec::new();
    expand(
        "crate::server::{store::{self,Db},engine::Engine as E,web::*,base}",
        "",
        &mut out,
    );
    assert_eq!(
        out,
        [
            "crate::server::store",
            "crate::server::store::Db",
            "crate::server::engine::Engine",
            "crate::server::web",
            "crate::server::base"
        ]
    );
}

#[test]
fn the_browsers_code_never_names_the_server() {
    for s in sources() {
        let browser = matches!(
            s.module.first().map(String::as_str),
            Some("pages" | "components")
        );
        if browser {
            assert!(
                !s.code.contains("crate::server"),
                "{} names the server",
                s.path.display()
            );
        }
    }
}

#[test]
fn server_functions_hold_no_sql() {
    for s in sources() {
        if s.module.first().map(String::as_str) != Some("api") {
            continue;
        }
        let text = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("src")
                .join(&s.path),
        )
        .expect("read")
        .to_lowercase();
        for sql in [
            "sqlx",
            "select ",
            "insert into",
            "update ",
            "delete from",
            ".pool",
        ] {
            assert!(
                !text.contains(sql),
                "{} holds SQL ({sql:?}): server functions call the server layer",
                s.path.display()
            );
        }
    }
}

#[test]
fn no_file_grows_past_400_lines_without_saying_why() {
    for s in sources() {
        assert!(
            s.lines <= MAX_LINES || s.opening_comment.contains("400 lines"),
            "{} has {} lines; split it along its seams, or say in its opening comment why it is over 400 lines",
            s.path.display(),
            s.lines
        );
    }
}
