//! Go's text/template parser (`text/template/parse/parse.go`): the tree, its `String()`
//! forms (which execution errors quote), and parse errors in Go's wording.
//!
//! Invariants: a successful parse yields a tree whose variables are all declared and
//! whose identifiers all name known functions, as Go checks at parse time; `break` and
//! `continue` only occur inside `range`; nesting depth is bounded by `MAX_DEPTH`, so
//! recursion never overflows the stack.

use std::collections::BTreeMap;

use super::lexer::{lex, Kind, Token};
use crate::prometheus::model::{go_number, go_quote};

/// Deepest nesting of parentheses and control blocks accepted, with Go's message
/// `max expression depth exceeded`. Go allows 10000; we stop earlier because each level
/// costs several native stack frames when executed (see `exec::MAX_EXEC_DEPTH`).
pub const MAX_DEPTH: usize = 64;

#[derive(Clone, Debug, PartialEq)]
pub struct List {
    pub pos: usize,
    pub nodes: Vec<Node>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Text {
        pos: usize,
        text: String,
    },
    Action {
        pos: usize,
        pipe: Pipe,
    },
    If(Branch),
    Range(Branch),
    With(Branch),
    Template {
        pos: usize,
        name: String,
        pipe: Option<Pipe>,
    },
    Break {
        pos: usize,
    },
    Continue {
        pos: usize,
    },
}

/// The shared shape of `if`, `range` and `with`.
#[derive(Clone, Debug, PartialEq)]
pub struct Branch {
    pub pos: usize,
    pub pipe: Pipe,
    pub list: List,
    pub else_list: Option<List>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Pipe {
    pub pos: usize,
    pub is_assign: bool,
    pub decl: Vec<String>,
    pub decl_pos: Vec<usize>,
    pub cmds: Vec<Command>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Command {
    pub pos: usize,
    pub args: Vec<Arg>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Number {
    pub pos: usize,
    pub text: String,
    pub is_int: bool,
    pub is_float: bool,
    pub is_complex: bool,
    pub int: i64,
    /// The value, or the real part of a complex constant.
    pub float: f64,
    /// The imaginary part of a complex constant.
    pub imag: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Arg {
    Identifier {
        pos: usize,
        name: String,
    },
    Dot {
        pos: usize,
    },
    Nil {
        pos: usize,
    },
    Bool {
        pos: usize,
        value: bool,
    },
    Number(Number),
    String {
        pos: usize,
        quoted: String,
        text: String,
    },
    Field {
        pos: usize,
        idents: Vec<String>,
    },
    Variable {
        pos: usize,
        idents: Vec<String>,
    },
    Chain {
        pos: usize,
        node: Box<Arg>,
        fields: Vec<String>,
    },
    Pipe(Box<Pipe>),
}

impl Arg {
    pub fn pos(&self) -> usize {
        match self {
            Arg::Identifier { pos, .. }
            | Arg::Dot { pos }
            | Arg::Nil { pos }
            | Arg::Bool { pos, .. }
            | Arg::String { pos, .. }
            | Arg::Field { pos, .. }
            | Arg::Variable { pos, .. }
            | Arg::Chain { pos, .. } => *pos,
            Arg::Number(n) => n.pos,
            Arg::Pipe(p) => p.pos,
        }
    }
}

impl Node {
    pub fn pos(&self) -> usize {
        match self {
            Node::Text { pos, .. }
            | Node::Action { pos, .. }
            | Node::Template { pos, .. }
            | Node::Break { pos }
            | Node::Continue { pos } => *pos,
            Node::If(b) | Node::Range(b) | Node::With(b) => b.pos,
        }
    }
}

impl std::fmt::Display for Arg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Arg::Identifier { name, .. } => write!(f, "{name}"),
            Arg::Dot { .. } => write!(f, "."),
            Arg::Nil { .. } => write!(f, "nil"),
            Arg::Bool { value, .. } => write!(f, "{value}"),
            Arg::Number(n) => write!(f, "{}", n.text),
            Arg::String { quoted, .. } => write!(f, "{quoted}"),
            Arg::Field { idents, .. } => {
                for ident in idents {
                    write!(f, ".{ident}")?;
                }
                Ok(())
            }
            Arg::Variable { idents, .. } => write!(f, "{}", idents.join(".")),
            Arg::Chain { node, fields, .. } => {
                if let Arg::Pipe(p) = node.as_ref() {
                    write!(f, "({p})")?;
                } else {
                    write!(f, "{node}")?;
                }
                for field in fields {
                    write!(f, ".{field}")?;
                }
                Ok(())
            }
            Arg::Pipe(p) => write!(f, "{p}"),
        }
    }
}

impl std::fmt::Display for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, arg) in self.args.iter().enumerate() {
            if i > 0 {
                write!(f, " ")?;
            }
            if let Arg::Pipe(p) = arg {
                write!(f, "({p})")?;
            } else {
                write!(f, "{arg}")?;
            }
        }
        Ok(())
    }
}

impl std::fmt::Display for Pipe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if !self.decl.is_empty() {
            write!(f, "{} := ", self.decl.join(", "))?;
        }
        for (i, cmd) in self.cmds.iter().enumerate() {
            if i > 0 {
                write!(f, " | ")?;
            }
            write!(f, "{cmd}")?;
        }
        Ok(())
    }
}

impl std::fmt::Display for List {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for node in &self.nodes {
            write!(f, "{node}")?;
        }
        Ok(())
    }
}

impl std::fmt::Display for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let branch = |f: &mut std::fmt::Formatter<'_>, word: &str, b: &Branch| {
            write!(f, "{{{{{word} {}}}}}{}", b.pipe, b.list)?;
            if let Some(else_list) = &b.else_list {
                write!(f, "{{{{else}}}}{else_list}")?;
            }
            write!(f, "{{{{end}}}}")
        };
        match self {
            Node::Text { text, .. } => write!(f, "{text}"),
            Node::Action { pipe, .. } => write!(f, "{{{{{pipe}}}}}"),
            Node::If(b) => branch(f, "if", b),
            Node::Range(b) => branch(f, "range", b),
            Node::With(b) => branch(f, "with", b),
            Node::Template { name, pipe, .. } => match pipe {
                None => write!(f, "{{{{template {}}}}}", go_quote::quote(name)),
                Some(p) => write!(f, "{{{{template {} {p}}}}}", go_quote::quote(name)),
            },
            Node::Break { .. } => write!(f, "{{{{break}}}}"),
            Node::Continue { .. } => write!(f, "{{{{continue}}}}"),
        }
    }
}

/// A parse failure: Go's message plus where it happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// Go's full text: `template: NAME:LINE: MESSAGE`.
    pub message: String,
    /// The message without the `template: NAME:LINE: ` prefix.
    pub detail: String,
    pub line: usize,
    /// Byte offset of the token the parser stopped at.
    pub offset: usize,
}

/// All templates of one parse: the top-level one under its name plus every
/// `define`/`block`.
#[derive(Clone, Debug, PartialEq)]
pub struct Trees {
    pub name: String,
    pub text: String,
    pub trees: BTreeMap<String, List>,
}

/// Control-flow items that end a list.
enum Item {
    Node(Node),
    End { pos: usize },
    Else { pos: usize },
}

impl Item {
    fn describe(&self) -> String {
        match self {
            Item::Node(n) => n.to_string(),
            Item::End { .. } => "{{end}}".to_string(),
            Item::Else { .. } => "{{else}}".to_string(),
        }
    }
}

type PResult<T> = Result<T, ParseError>;

struct Parser<'a> {
    name: &'a str,
    tokens: Vec<Token>,
    index: usize,
    high_water: usize,
    vars: Vec<String>,
    action_line: usize,
    range_depth: usize,
    depth: usize,
    is_function: &'a dyn Fn(&str) -> bool,
    trees: BTreeMap<String, List>,
}

/// Parses `text` as the template `name`; `is_function` says which identifiers are
/// defined functions.
pub fn parse(name: &str, text: &str, is_function: &dyn Fn(&str) -> bool) -> PResult<Trees> {
    parse_with_variables(name, text, is_function, &[])
}

/// [`parse`] with `variables` already declared at the top level, as if the text
/// began with actions declaring them.
pub fn parse_with_variables(
    name: &str,
    text: &str,
    is_function: &dyn Fn(&str) -> bool,
    variables: &[&str],
) -> PResult<Trees> {
    let mut vars = vec!["$".to_string()];
    vars.extend(variables.iter().map(|v| v.to_string()));
    let mut parser = Parser {
        name,
        tokens: lex(text),
        index: 0,
        high_water: 0,
        vars,
        action_line: 0,
        range_depth: 0,
        depth: 0,
        is_function,
        trees: BTreeMap::new(),
    };
    let root = parser.parse_top()?;
    parser.add(name.to_string(), root)?;
    Ok(Trees {
        name: name.to_string(),
        text: text.to_string(),
        trees: parser.trees,
    })
}

fn is_empty_tree(list: &List) -> bool {
    list.nodes.iter().all(|n| match n {
        Node::Text { text, .. } => text.trim().is_empty(),
        _ => false,
    })
}

impl Parser<'_> {
    fn token(&self, i: usize) -> &Token {
        // The lexer always ends the list with Eof or Error and the parser stops at either,
        // so clamping only matters after an error, where the last token is what we want.
        let last = self.tokens.len().saturating_sub(1);
        &self.tokens[i.min(last)]
    }

    fn next(&mut self) -> Token {
        let t = self.token(self.index).clone();
        self.high_water = self.high_water.max(self.index);
        self.index = (self.index + 1).min(self.tokens.len());
        t
    }

    fn peek(&mut self) -> Token {
        self.high_water = self.high_water.max(self.index);
        self.token(self.index).clone()
    }

    fn backup(&mut self) {
        self.index = self.index.saturating_sub(1);
    }

    fn next_non_space(&mut self) -> Token {
        loop {
            let t = self.next();
            if t.kind != Kind::Space {
                return t;
            }
        }
    }

    fn peek_non_space(&mut self) -> Token {
        let saved = self.index;
        let t = self.next_non_space();
        // Go backs up one token, which leaves the spaces consumed.
        self.index = saved;
        while self.token(self.index).kind == Kind::Space {
            self.index += 1;
        }
        t
    }

    fn error_at(&self, offset: usize, detail: String) -> ParseError {
        let line = self.token(self.high_water).line;
        ParseError {
            message: format!("template: {}:{}: {}", self.name, line, detail),
            detail,
            line,
            offset,
        }
    }

    fn errorf<T>(&self, offset: usize, detail: impl Into<String>) -> PResult<T> {
        Err(self.error_at(offset, detail.into()))
    }

    fn unexpected<T>(&self, token: &Token, context: &str) -> PResult<T> {
        if token.kind == Kind::Error {
            let mut extra = String::new();
            if self.action_line != 0 && self.action_line != token.line {
                extra = format!(" in action started at {}:{}", self.name, self.action_line);
                if token.val.ends_with(" action") {
                    extra = extra[" in action".len()..].to_string();
                }
            }
            return self.errorf(token.pos, format!("{token}{extra}"));
        }
        self.errorf(token.pos, format!("unexpected {token} in {context}"))
    }

    fn expect(&mut self, kind: Kind, context: &str) -> PResult<Token> {
        let token = self.next_non_space();
        if token.kind != kind {
            return self.unexpected(&token, context);
        }
        Ok(token)
    }

    fn add(&mut self, name: String, list: List) -> PResult<()> {
        match self.trees.get(&name) {
            Some(existing) if !is_empty_tree(existing) => {
                if !is_empty_tree(&list) {
                    return self.errorf(
                        list.pos,
                        format!(
                            "template: multiple definition of template {}",
                            go_quote::quote(&name)
                        ),
                    );
                }
                Ok(())
            }
            _ => {
                self.trees.insert(name, list);
                Ok(())
            }
        }
    }

    fn parse_top(&mut self) -> PResult<List> {
        let pos = self.peek().pos;
        let mut root = List {
            pos,
            nodes: Vec::new(),
        };
        while self.peek().kind != Kind::Eof {
            if self.peek().kind == Kind::LeftDelim {
                let saved = self.index;
                let delim = self.next();
                if self.next_non_space().kind == Kind::Define {
                    self.action_line = delim.line;
                    self.parse_definition()?;
                    self.action_line = 0;
                    continue;
                }
                self.index = saved;
            }
            match self.text_or_action()? {
                Item::Node(n) => root.nodes.push(n),
                other => {
                    return self.errorf(
                        other_pos(&other),
                        format!("unexpected {}", other.describe()),
                    )
                }
            }
        }
        Ok(root)
    }

    fn parse_definition(&mut self) -> PResult<()> {
        let context = "define clause";
        let token = self.next_non_space();
        if token.kind != Kind::String && token.kind != Kind::RawString {
            return self.unexpected(&token, context);
        }
        let name = self.unquote(&token)?;
        self.expect(Kind::RightDelim, context)?;
        let saved_vars = std::mem::replace(&mut self.vars, vec!["$".to_string()]);
        let (list, end) = self.item_list()?;
        self.vars = saved_vars;
        if !matches!(end, Item::End { .. }) {
            return self.errorf(
                other_pos(&end),
                format!("unexpected {} in {context}", end.describe()),
            );
        }
        self.add(name, list)
    }

    fn item_list(&mut self) -> PResult<(List, Item)> {
        let pos = self.peek_non_space().pos;
        let mut list = List {
            pos,
            nodes: Vec::new(),
        };
        while self.peek_non_space().kind != Kind::Eof {
            match self.text_or_action()? {
                Item::Node(n) => list.nodes.push(n),
                end => return Ok((list, end)),
            }
        }
        let pos = self.peek().pos;
        self.errorf(pos, "unexpected EOF")
    }

    fn text_or_action(&mut self) -> PResult<Item> {
        let token = self.next_non_space();
        match token.kind {
            Kind::Text => Ok(Item::Node(Node::Text {
                pos: token.pos,
                text: token.val,
            })),
            Kind::LeftDelim => {
                let outer = self.action_line;
                self.action_line = token.line;
                let result = self.action();
                self.action_line = outer;
                result
            }
            _ => self.unexpected(&token, "input"),
        }
    }

    fn action(&mut self) -> PResult<Item> {
        let token = self.next_non_space();
        match token.kind {
            Kind::Block => return self.block_control().map(Item::Node),
            Kind::Break => return self.break_control(token.pos, "break").map(Item::Node),
            Kind::Continue => return self.break_control(token.pos, "continue").map(Item::Node),
            Kind::Else => return self.else_control(),
            Kind::End => {
                let t = self.expect(Kind::RightDelim, "end")?;
                return Ok(Item::End { pos: t.pos });
            }
            Kind::If => return self.control("if").map(Item::Node),
            Kind::Range => return self.control("range").map(Item::Node),
            Kind::Template => return self.template_control().map(Item::Node),
            Kind::With => return self.control("with").map(Item::Node),
            _ => {}
        }
        self.backup();
        let pos = self.peek_non_space().pos;
        let pipe = self.pipeline("command", Kind::RightDelim)?;
        Ok(Item::Node(Node::Action { pos, pipe }))
    }

    fn break_control(&mut self, pos: usize, word: &str) -> PResult<Node> {
        let token = self.next_non_space();
        if token.kind != Kind::RightDelim {
            return self.unexpected(&token, &format!("{{{{{word}}}}}"));
        }
        if self.range_depth == 0 {
            return self.errorf(pos, format!("{{{{{word}}}}} outside {{{{range}}}}"));
        }
        Ok(if word == "break" {
            Node::Break { pos }
        } else {
            Node::Continue { pos }
        })
    }

    fn else_control(&mut self) -> PResult<Item> {
        let peek = self.peek_non_space();
        // Go 1.19/1.20 (promtool 2.42) only know `else if`; `else with` came in Go 1.23.
        if peek.kind == Kind::If {
            return Ok(Item::Else { pos: peek.pos });
        }
        let token = self.expect(Kind::RightDelim, "else")?;
        Ok(Item::Else { pos: token.pos })
    }

    fn enter(&mut self, offset: usize) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.errorf(offset, "max expression depth exceeded");
        }
        Ok(())
    }

    fn control(&mut self, context: &str) -> PResult<Node> {
        let offset = self.peek().pos;
        self.enter(offset)?;
        let vars_len = self.vars.len();
        if context == "range" {
            self.range_depth += 1;
        }
        let result = self.parse_control(context);
        if context == "range" {
            self.range_depth -= 1;
        }
        self.vars.truncate(vars_len);
        self.depth -= 1;
        let branch = result?;
        Ok(match context {
            "if" => Node::If(branch),
            "range" => Node::Range(branch),
            _ => Node::With(branch),
        })
    }

    fn parse_control(&mut self, context: &str) -> PResult<Branch> {
        let pipe = self.pipeline(context, Kind::RightDelim)?;
        let (list, next) = self.item_list()?;
        let mut else_list = None;
        match next {
            Item::End { .. } => {}
            Item::Else { pos } => {
                let chained = match context {
                    "if" if self.peek().kind == Kind::If => Some("if"),
                    _ => None,
                };
                if let Some(word) = chained {
                    self.next();
                    let node = self.control(word)?;
                    else_list = Some(List {
                        pos,
                        nodes: vec![node],
                    });
                } else {
                    let (list, next) = self.item_list()?;
                    if !matches!(next, Item::End { .. }) {
                        return self.errorf(
                            other_pos(&next),
                            format!("expected end; found {}", next.describe()),
                        );
                    }
                    else_list = Some(list);
                }
            }
            Item::Node(_) => {}
        }
        Ok(Branch {
            pos: pipe.pos,
            pipe,
            list,
            else_list,
        })
    }

    fn parse_template_name(&mut self, token: &Token, context: &str) -> PResult<String> {
        match token.kind {
            Kind::String | Kind::RawString => self.unquote(token),
            _ => self.unexpected(token, context),
        }
    }

    fn template_control(&mut self) -> PResult<Node> {
        let context = "template clause";
        let token = self.next_non_space();
        let name = self.parse_template_name(&token, context)?;
        let mut pipe = None;
        if self.next_non_space().kind != Kind::RightDelim {
            self.backup();
            pipe = Some(self.pipeline(context, Kind::RightDelim)?);
        }
        Ok(Node::Template {
            pos: token.pos,
            name,
            pipe,
        })
    }

    fn block_control(&mut self) -> PResult<Node> {
        let context = "block clause";
        let token = self.next_non_space();
        let name = self.parse_template_name(&token, context)?;
        let pipe = self.pipeline(context, Kind::RightDelim)?;
        let saved_vars = std::mem::replace(&mut self.vars, vec!["$".to_string()]);
        let saved_range = std::mem::replace(&mut self.range_depth, 0);
        let result = self.item_list();
        self.vars = saved_vars;
        self.range_depth = saved_range;
        let (list, end) = result?;
        if !matches!(end, Item::End { .. }) {
            return self.errorf(
                other_pos(&end),
                format!("unexpected {} in {context}", end.describe()),
            );
        }
        self.add(name.clone(), list)?;
        Ok(Node::Template {
            pos: token.pos,
            name,
            pipe: Some(pipe),
        })
    }

    /// `end` is the token that closes this pipeline: `}}` or, inside parentheses, `)`.
    fn pipeline(&mut self, context: &str, end: Kind) -> PResult<Pipe> {
        let start = self.peek_non_space();
        let mut pipe = Pipe {
            pos: start.pos,
            is_assign: false,
            decl: Vec::new(),
            decl_pos: Vec::new(),
            cmds: Vec::new(),
        };
        'decls: loop {
            let v = self.peek_non_space();
            if v.kind != Kind::Variable {
                break;
            }
            let saved = self.index;
            self.next();
            let next = self.peek_non_space();
            match next.kind {
                Kind::Assign | Kind::Declare => {
                    pipe.is_assign = next.kind == Kind::Assign;
                    self.next_non_space();
                    pipe.decl.push(v.val.clone());
                    pipe.decl_pos.push(v.pos);
                    self.vars.push(v.val.clone());
                    break;
                }
                Kind::Char if next.val == "," => {
                    self.next_non_space();
                    pipe.decl.push(v.val.clone());
                    pipe.decl_pos.push(v.pos);
                    self.vars.push(v.val.clone());
                    if context == "range" && pipe.decl.len() < 2 {
                        match self.peek_non_space().kind {
                            Kind::Variable | Kind::RightDelim | Kind::RightParen => continue 'decls,
                            _ => {
                                return self.errorf(next.pos, "range can only initialize variables")
                            }
                        }
                    }
                    return self.errorf(next.pos, format!("too many declarations in {context}"));
                }
                _ => {
                    self.index = saved;
                    break;
                }
            }
        }
        loop {
            let token = self.next_non_space();
            match token.kind {
                k if k == end => {
                    self.check_pipeline(&pipe, context, token.pos)?;
                    return Ok(pipe);
                }
                Kind::Bool
                | Kind::CharConstant
                | Kind::Complex
                | Kind::Dot
                | Kind::Field
                | Kind::Identifier
                | Kind::Number
                | Kind::Nil
                | Kind::RawString
                | Kind::String
                | Kind::Variable
                | Kind::LeftParen => {
                    self.backup();
                    let cmd = self.command()?;
                    pipe.cmds.push(cmd);
                }
                _ => return self.unexpected(&token, context),
            }
        }
    }

    fn check_pipeline(&self, pipe: &Pipe, context: &str, offset: usize) -> PResult<()> {
        if pipe.cmds.is_empty() {
            return self.errorf(offset, format!("missing value for {context}"));
        }
        for (i, cmd) in pipe.cmds.iter().enumerate().skip(1) {
            if matches!(
                cmd.args.first(),
                Some(
                    Arg::Bool { .. }
                        | Arg::Dot { .. }
                        | Arg::Nil { .. }
                        | Arg::Number(_)
                        | Arg::String { .. }
                )
            ) {
                return self.errorf(
                    cmd.pos,
                    format!("non executable command in pipeline stage {}", i + 1),
                );
            }
        }
        Ok(())
    }

    fn command(&mut self) -> PResult<Command> {
        let pos = self.peek_non_space().pos;
        let mut cmd = Command {
            pos,
            args: Vec::new(),
        };
        loop {
            self.peek_non_space();
            if let Some(operand) = self.operand()? {
                cmd.args.push(operand);
            }
            let token = self.next();
            match token.kind {
                Kind::Space => continue,
                Kind::RightDelim | Kind::RightParen => self.backup(),
                Kind::Pipe => {}
                _ => return self.unexpected(&token, "operand"),
            }
            break;
        }
        if cmd.args.is_empty() {
            return self.errorf(pos, "empty command");
        }
        Ok(cmd)
    }

    fn operand(&mut self) -> PResult<Option<Arg>> {
        let Some(node) = self.term()? else {
            return Ok(None);
        };
        if self.peek().kind != Kind::Field {
            return Ok(Some(node));
        }
        let chain_pos = self.peek().pos;
        let mut fields = Vec::new();
        while self.peek().kind == Kind::Field {
            let t = self.next();
            fields.push(t.val[1..].to_string());
        }
        Ok(Some(match node {
            Arg::Field { idents, .. } => Arg::Field {
                pos: chain_pos,
                idents: idents.into_iter().chain(fields).collect(),
            },
            Arg::Variable { idents, .. } => Arg::Variable {
                pos: chain_pos,
                idents: idents.into_iter().chain(fields).collect(),
            },
            Arg::Bool { .. }
            | Arg::String { .. }
            | Arg::Number(_)
            | Arg::Nil { .. }
            | Arg::Dot { .. } => {
                return self.errorf(
                    chain_pos,
                    format!(
                        "unexpected . after term {}",
                        go_quote::quote(&node.to_string())
                    ),
                )
            }
            other => Arg::Chain {
                pos: chain_pos,
                node: Box::new(other),
                fields,
            },
        }))
    }

    fn term(&mut self) -> PResult<Option<Arg>> {
        let token = self.next_non_space();
        let pos = token.pos;
        Ok(Some(match token.kind {
            Kind::Error => return self.unexpected(&token, "operand"),
            Kind::Identifier => {
                if !(self.is_function)(&token.val) {
                    return self.errorf(
                        pos,
                        format!("function {} not defined", go_quote::quote(&token.val)),
                    );
                }
                Arg::Identifier {
                    pos,
                    name: token.val,
                }
            }
            Kind::Dot => Arg::Dot { pos },
            Kind::Nil => Arg::Nil { pos },
            Kind::Variable => {
                if !self.vars.contains(&token.val) {
                    return self.errorf(
                        pos,
                        format!("undefined variable {}", go_quote::quote(&token.val)),
                    );
                }
                Arg::Variable {
                    pos,
                    idents: vec![token.val],
                }
            }
            Kind::Field => Arg::Field {
                pos,
                idents: vec![token.val[1..].to_string()],
            },
            Kind::Bool => Arg::Bool {
                pos,
                value: token.val == "true",
            },
            Kind::CharConstant | Kind::Complex | Kind::Number => {
                let number =
                    new_number(pos, &token.val, token.kind).map_err(|e| self.error_at(pos, e))?;
                Arg::Number(number)
            }
            Kind::LeftParen => {
                self.enter(pos)?;
                let pipe = self.pipeline("parenthesized pipeline", Kind::RightParen);
                self.depth -= 1;
                Arg::Pipe(Box::new(pipe?))
            }
            Kind::String | Kind::RawString => {
                let text = self.unquote(&token)?;
                Arg::String {
                    pos,
                    quoted: token.val,
                    text,
                }
            }
            _ => {
                self.backup();
                return Ok(None);
            }
        }))
    }

    fn unquote(&self, token: &Token) -> PResult<String> {
        go_quote::unquote(&token.val)
            .ok_or_else(|| self.error_at(token.pos, "invalid syntax".to_string()))
    }
}

fn other_pos(item: &Item) -> usize {
    match item {
        Item::Node(n) => n.pos(),
        Item::End { pos } | Item::Else { pos } => *pos,
    }
}

/// Go's `parse.newNumber`.
fn new_number(pos: usize, text: &str, kind: Kind) -> Result<Number, String> {
    let mut n = Number {
        pos,
        text: text.to_string(),
        is_int: false,
        is_float: false,
        is_complex: false,
        int: 0,
        float: 0.0,
        imag: 0.0,
    };
    if kind == Kind::CharConstant {
        let body = &text[1..];
        let mut chars = body.chars().peekable();
        let first = chars.next().ok_or("invalid syntax")?;
        let value = if first == '\\' {
            let mut bytes = Vec::new();
            go_quote::unquote_escape(&mut chars, '\'', &mut bytes).ok_or("invalid syntax")?;
            let s = String::from_utf8(bytes.clone()).ok();
            match s.as_deref().and_then(|s| s.chars().next()) {
                Some(c) if bytes.len() == c.len_utf8() => c as i64,
                _ => i64::from(*bytes.first().unwrap_or(&0)),
            }
        } else {
            first as i64
        };
        let tail: String = chars.collect();
        if tail != "'" {
            return Err(format!("malformed character constant: {text}"));
        }
        n.is_int = true;
        n.int = value;
        n.is_float = true;
        n.float = value as f64;
        return Ok(n);
    }
    let illegal = || format!("illegal number syntax: {}", go_quote::quote(text));
    if kind == Kind::Complex {
        // "1+2i": the sign that splits the parts is not one that starts an exponent.
        let bytes = text.as_bytes();
        let split = (1..bytes.len())
            .rev()
            .find(|&k| {
                matches!(bytes[k], b'+' | b'-')
                    && !matches!(bytes[k - 1], b'e' | b'E' | b'p' | b'P')
            })
            .ok_or_else(illegal)?;
        let real = go_number::parse_float(&text[..split]).map_err(|_| illegal())?;
        let imag = go_number::parse_float(&text[split..text.len() - 1]).map_err(|_| illegal())?;
        n.is_complex = true;
        n.float = real;
        n.imag = imag;
        return Ok(n);
    }
    // An imaginary literal is complex only when what precedes the `i` is a number.
    if let Some(imaginary) = text.strip_suffix('i') {
        if let Ok(f) = go_number::parse_float(imaginary) {
            n.is_complex = true;
            n.imag = f;
            return Ok(n);
        }
    }
    if let Some(i) = parse_go_int(text) {
        n.is_int = true;
        n.int = i;
        n.is_float = true;
        n.float = i as f64;
        return Ok(n);
    }
    if let Ok(f) = go_number::parse_float(text) {
        if !text.contains(['.', 'e', 'E', 'p', 'P']) {
            // Too large for int64 (Go also accepts up to uint64 here; we have no uint).
            return Err(format!("integer overflow: {}", go_quote::quote(text)));
        }
        n.is_float = true;
        n.float = f;
        if f.fract() == 0.0 && (-TWO_POW_63..TWO_POW_63).contains(&f) {
            n.is_int = true;
            n.int = f as i64;
        }
        return Ok(n);
    }
    Err(format!("illegal number syntax: {}", go_quote::quote(text)))
}

const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;

/// `strconv.ParseInt(text, 0, 64)`.
fn parse_go_int(text: &str) -> Option<i64> {
    let (negative, rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let lower = rest.to_ascii_lowercase();
    let (radix, digits, prefixed) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d.to_string(), true)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d.to_string(), true)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d.to_string(), true)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, lower[1..].to_string(), true)
    } else {
        (10, lower.clone(), false)
    };
    if digits.contains('_') {
        // Underscores are only allowed between digits (or after a base prefix).
        let ok = !digits.ends_with('_')
            && !digits.contains("__")
            && (prefixed || !digits.starts_with('_'));
        if !ok {
            return None;
        }
    }
    let digits = digits.replace('_', "");
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u64::from_str_radix(&digits, radix).ok()?;
    if negative {
        if magnitude == 1u64 << 63 {
            return Some(i64::MIN);
        }
        i64::try_from(magnitude).ok().map(|m| -m)
    } else {
        i64::try_from(magnitude).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        match parse("t", text, &|name: &str| name == "printf") {
            Ok(_) => "ok".to_string(),
            Err(e) => e.message,
        }
    }

    #[test]
    fn parse_errors_use_go_wording() {
        assert_eq!(err("{{"), "template: t:1: unclosed action");
        assert_eq!(
            err("{{ foo }}"),
            "template: t:1: function \"foo\" not defined"
        );
        assert_eq!(err("{{ $x }}"), "template: t:1: undefined variable \"$x\"");
        assert_eq!(err("{{ if true }}"), "template: t:1: unexpected EOF");
        assert_eq!(err("{{ end }}"), "template: t:1: unexpected {{end}}");
        assert_eq!(
            err("{{ break }}"),
            "template: t:1: {{break}} outside {{range}}"
        );
        assert_eq!(err("{{ }}"), "template: t:1: missing value for command");
        assert_eq!(
            err("{{ 1 | 2 }}"),
            "template: t:1: non executable command in pipeline stage 2"
        );
        assert_eq!(
            err("a\n{{ printf\n"),
            "template: t:3: unclosed action started at t:2"
        );
        assert_eq!(err("{{ .A | printf \"%d\" }}"), "ok");
        assert_eq!(
            err("{{ \"x\".y }}"),
            "template: t:1: unexpected . after term \"\\\"x\\\"\""
        );
    }

    #[test]
    fn node_strings_match_go() {
        let trees = parse(
            "t",
            "{{ $x := printf \"%d\" (printf .A.b) | printf }}",
            &|_| true,
        )
        .expect("valid template");
        let root = &trees.trees["t"];
        assert_eq!(
            root.to_string(),
            "{{$x := printf \"%d\" (printf .A.b) | printf}}"
        );
    }
}
