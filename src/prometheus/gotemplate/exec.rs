//! Execution of a parsed template over a `Value` (`text/template/exec.go`), with the
//! `missingkey=zero` option Prometheus sets.
//!
//! Invariants: errors carry Go's location and context exactly as `state.errorf` builds
//! them, which depends on the *last node visited* (`State::at`), so `at` is called where
//! Go calls `s.at`; template recursion and total work are bounded (`MAX_EXEC_DEPTH`,
//! `MAX_STEPS`), so no input can overflow the stack or run unbounded.

use super::funcs::{self, Dialect, Env, ParamType, Signature};
use super::parse::{Arg, Branch, Command, List, Node, Number, Pipe, Trees};
use super::value::{StructValue, Value};
use crate::prometheus::model::go_quote;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Deepest nesting of `{{template}}` calls and parenthesised pipelines together. Go
/// allows 100000 template calls; each level costs native stack here, and this bound
/// keeps a debug build within a 1 MiB thread stack (see the `deepest_accepted_nesting`
/// test), half of Rust's default thread stack.
pub const MAX_EXEC_DEPTH: usize = 100;
/// Upper bound on visited nodes per execution, so exponential template recursion ends.
pub const MAX_STEPS: usize = 1_000_000;
/// Upper bound on the output size in bytes.
pub const MAX_OUTPUT: usize = 16 << 20;

/// Why execution stopped early.
enum Flow {
    Error(String),
    Break,
    Continue,
}

type R<T> = Result<T, Flow>;

#[derive(Clone, Copy)]
enum At<'t> {
    Node(&'t Node),
    List(&'t List),
    Pipe(&'t Pipe),
    Cmd(&'t Command),
    Arg(&'t Arg),
}

impl At<'_> {
    fn pos(&self) -> usize {
        match self {
            At::Node(n) => n.pos(),
            At::List(l) => l.pos,
            At::Pipe(p) => p.pos,
            At::Cmd(c) => c.pos,
            At::Arg(a) => a.pos(),
        }
    }

    fn context(&self) -> String {
        match self {
            At::Node(n) => n.to_string(),
            At::List(l) => l.to_string(),
            At::Pipe(p) => p.to_string(),
            At::Cmd(c) => c.to_string(),
            At::Arg(a) => a.to_string(),
        }
    }
}

/// What a call site invokes: a function by name or a method of a value.
enum Callee {
    Function(Signature),
    Method(Value, Signature),
}

struct State<'t, 'e> {
    trees: &'t Trees,
    name: String,
    at: Option<At<'t>>,
    vars: Vec<(String, Value)>,
    out: String,
    depth: usize,
    steps: usize,
    env: &'e Env<'e>,
    dialect: Dialect,
}

/// Executes the template named `trees.name` with `data` as dot; the error is Go's text
/// (`template: NAME:LINE:COL: executing "NAME" at <...>: ...`).
pub fn execute(trees: &Trees, data: &Value, env: &Env<'_>) -> Result<String, String> {
    execute_in(trees, data, env, Dialect::Prometheus)
}

/// [`execute`] with `dialect`'s function map and, for Alertmanager, the methods
/// of its notification data (`Alerts.Firing`, `KV.SortedPairs`, ...).
pub fn execute_in(
    trees: &Trees,
    data: &Value,
    env: &Env<'_>,
    dialect: Dialect,
) -> Result<String, String> {
    let mut state = State {
        trees,
        name: trees.name.clone(),
        at: None,
        vars: vec![("$".to_string(), data.clone())],
        out: String::new(),
        depth: 0,
        steps: 0,
        env,
        dialect,
    };
    let Some(root) = trees.trees.get(&trees.name) else {
        return Err(format!(
            "template: {}: \"{}\" is an incomplete or empty template",
            trees.name, trees.name
        ));
    };
    match state.walk_list(data, root) {
        Ok(()) => Ok(state.out),
        Err(Flow::Error(e)) => Err(e),
        // The parser rejects break/continue outside range, so these cannot escape.
        Err(Flow::Break | Flow::Continue) => Ok(state.out),
    }
}

const TIME_METHODS: &[(&str, Signature)] = &[
    (
        "Format",
        Signature {
            params: &[ParamType::String],
            variadic: false,
        },
    ),
    (
        "Unix",
        Signature {
            params: &[],
            variadic: false,
        },
    ),
    (
        "UnixMilli",
        Signature {
            params: &[],
            variadic: false,
        },
    ),
    (
        "UTC",
        Signature {
            params: &[],
            variadic: false,
        },
    ),
    (
        "String",
        Signature {
            params: &[],
            variadic: false,
        },
    ),
    (
        "Year",
        Signature {
            params: &[],
            variadic: false,
        },
    ),
];

impl<'t> State<'t, '_> {
    fn at(&mut self, at: At<'t>) {
        self.at = Some(at);
    }

    fn error<T>(&self, message: impl Into<String>) -> R<T> {
        let message = message.into();
        let Some(at) = self.at else {
            return Err(Flow::Error(format!("template: {}: {}", self.name, message)));
        };
        let pos = at.pos().min(self.trees.text.len());
        let text = &self.trees.text.as_bytes()[..pos];
        let line = 1 + text.iter().filter(|b| **b == b'\n').count();
        let col = match text.iter().rposition(|b| *b == b'\n') {
            Some(nl) => pos - (nl + 1),
            None => pos,
        };
        let context = at.context();
        Err(Flow::Error(format!(
            "template: {}:{}:{}: executing {} at <{}>: {}",
            self.trees.name,
            line,
            col,
            go_quote::quote(&self.name),
            context,
            message
        )))
    }

    fn step(&mut self) -> R<()> {
        self.steps += 1;
        if self.steps > MAX_STEPS {
            return self.error("template execution exceeded its work limit");
        }
        if self.out.len() > MAX_OUTPUT {
            return self.error("template output exceeded its size limit");
        }
        Ok(())
    }

    fn walk_list(&mut self, dot: &Value, list: &'t List) -> R<()> {
        self.at(At::List(list));
        for node in &list.nodes {
            self.walk(dot, node)?;
        }
        Ok(())
    }

    fn walk(&mut self, dot: &Value, node: &'t Node) -> R<()> {
        self.step()?;
        self.at(At::Node(node));
        match node {
            Node::Text { text, .. } => {
                self.out.push_str(text);
                Ok(())
            }
            Node::Action { pipe, .. } => {
                let value = self.eval_pipeline(dot, pipe)?;
                if pipe.decl.is_empty() {
                    self.at(At::Node(node));
                    self.out.push_str(&super::format::sprint_value(&value));
                }
                Ok(())
            }
            Node::If(b) | Node::With(b) | Node::Range(b) => {
                // Control blocks count towards the nesting bound like pipelines do.
                self.enter()?;
                let result = match node {
                    Node::Range(_) => self.walk_range(dot, node, b),
                    Node::With(_) => self.walk_if_or_with(true, dot, b),
                    _ => self.walk_if_or_with(false, dot, b),
                };
                self.depth -= 1;
                result
            }
            Node::Template { name, pipe, .. } => self.walk_template(dot, name, pipe.as_ref()),
            Node::Break { .. } => Err(Flow::Break),
            Node::Continue { .. } => Err(Flow::Continue),
        }
    }

    fn walk_if_or_with(&mut self, is_with: bool, dot: &Value, b: &'t Branch) -> R<()> {
        let mark = self.vars.len();
        let value = self.eval_pipeline(dot, &b.pipe)?;
        let result = if value.is_true() {
            if is_with {
                self.walk_list(&value, &b.list)
            } else {
                self.walk_list(dot, &b.list)
            }
        } else if let Some(else_list) = &b.else_list {
            self.walk_list(dot, else_list)
        } else {
            Ok(())
        };
        self.vars.truncate(mark);
        result
    }

    fn set_top_var(&mut self, n: usize, value: Value) {
        let len = self.vars.len();
        if let Some(slot) = self.vars.get_mut(len.wrapping_sub(n)) {
            slot.1 = value;
        }
    }

    fn set_var(&mut self, name: &str, value: Value) -> R<()> {
        match self.vars.iter_mut().rev().find(|(n, _)| n == name) {
            Some(slot) => {
                slot.1 = value;
                Ok(())
            }
            None => self.error(format!("undefined variable: {name}")),
        }
    }

    fn walk_range(&mut self, dot: &Value, node: &'t Node, b: &'t Branch) -> R<()> {
        self.at(At::Node(node));
        let mark = self.vars.len();
        let value = self.eval_pipeline(dot, &b.pipe)?;
        let inner_mark = self.vars.len();
        let items: Vec<(Value, Value)> = match &value {
            Value::List(list) => list
                .iter()
                .enumerate()
                .map(|(i, v)| (Value::Int(i as i64), v.clone()))
                .collect(),
            Value::Samples(samples) => samples
                .iter()
                .enumerate()
                .map(|(i, s)| (Value::Int(i as i64), Value::Sample(s.clone())))
                .collect(),
            Value::StringMap(map) => map
                .iter()
                .map(|(k, v)| (Value::String(k.clone()), Value::String(v.clone())))
                .collect(),
            Value::Map(map) => map
                .iter()
                .map(|(k, v)| (Value::String(k.clone()), v.clone()))
                .collect(),
            Value::NoValue | Value::Nil => Vec::new(),
            other => {
                return self.error(format!(
                    "range can't iterate over {}",
                    super::format::sprint_value(other)
                ))
            }
        };
        let iterations = items.len();
        for (index, elem) in items {
            let decl = &b.pipe.decl;
            if !decl.is_empty() {
                if b.pipe.is_assign {
                    if decl.len() > 1 {
                        self.set_var(&decl[0], index.clone())?;
                    } else {
                        self.set_var(&decl[0], elem.clone())?;
                    }
                } else {
                    self.set_top_var(1, elem.clone());
                }
            }
            if decl.len() > 1 {
                if b.pipe.is_assign {
                    self.set_var(&decl[1], elem.clone())?;
                } else {
                    self.set_top_var(2, index);
                }
            }
            let result = self.walk_list(&elem, &b.list);
            self.vars.truncate(inner_mark);
            match result {
                Ok(()) | Err(Flow::Continue) => {}
                Err(Flow::Break) => break,
                Err(e) => return Err(e),
            }
        }
        let result = if iterations == 0 {
            match &b.else_list {
                Some(else_list) => self.walk_list(dot, else_list),
                None => Ok(()),
            }
        } else {
            Ok(())
        };
        self.vars.truncate(mark);
        result
    }

    fn walk_template(&mut self, dot: &Value, name: &str, pipe: Option<&'t Pipe>) -> R<()> {
        let trees = self.trees;
        let Some(tree) = trees.trees.get(name) else {
            return self.error(format!("template {} not defined", go_quote::quote(name)));
        };
        let new_dot = match pipe {
            Some(p) => self.eval_pipeline(dot, p)?,
            None => Value::NoValue,
        };
        let saved_vars =
            std::mem::replace(&mut self.vars, vec![("$".to_string(), new_dot.clone())]);
        let saved_name = std::mem::replace(&mut self.name, name.to_string());
        if let Err(e) = self.enter() {
            self.name = saved_name;
            self.vars = saved_vars;
            return Err(e);
        }
        let result = self.walk_list(&new_dot, tree);
        self.depth -= 1;
        self.name = saved_name;
        self.vars = saved_vars;
        result
    }

    fn eval_pipeline(&mut self, dot: &Value, pipe: &'t Pipe) -> R<Value> {
        self.enter()?;
        let result = self.eval_pipeline_inner(dot, pipe);
        self.depth -= 1;
        result
    }

    fn enter(&mut self) -> R<()> {
        if self.depth >= MAX_EXEC_DEPTH {
            return self.error(format!(
                "exceeded maximum template depth ({MAX_EXEC_DEPTH})"
            ));
        }
        self.depth += 1;
        Ok(())
    }

    fn eval_pipeline_inner(&mut self, dot: &Value, pipe: &'t Pipe) -> R<Value> {
        self.at(At::Pipe(pipe));
        let mut value: Option<Value> = None;
        for cmd in &pipe.cmds {
            let mut v = self.eval_command(dot, cmd, value.take())?;
            // An interface{} holding nil is unwrapped to "no value", as Go does.
            if v == Value::Nil {
                v = Value::NoValue;
            }
            value = Some(v);
        }
        let value = value.unwrap_or(Value::NoValue);
        for name in &pipe.decl {
            if pipe.is_assign {
                self.set_var(name, value.clone())?;
            } else {
                self.vars.push((name.clone(), value.clone()));
            }
        }
        Ok(value)
    }

    fn not_a_function(&self, args: &[Arg], final_value: &Option<Value>) -> R<()> {
        if args.len() > 1 || final_value.is_some() {
            let first = args.first().map(|a| a.to_string()).unwrap_or_default();
            return self.error(format!("can't give argument to non-function {first}"));
        }
        Ok(())
    }

    fn eval_command(
        &mut self,
        dot: &Value,
        cmd: &'t Command,
        final_value: Option<Value>,
    ) -> R<Value> {
        let Some(first) = cmd.args.first() else {
            return self.error("empty command");
        };
        match first {
            Arg::Field { idents, .. } => {
                return self.eval_field_node(dot, first, idents, &cmd.args, final_value)
            }
            Arg::Chain { .. } => return self.eval_chain_node(dot, first, &cmd.args, final_value),
            Arg::Identifier { name, .. } => {
                return self.eval_function(dot, first, name, At::Cmd(cmd), &cmd.args, final_value)
            }
            Arg::Pipe(p) => {
                self.not_a_function(&cmd.args, &final_value)?;
                return self.eval_pipeline(dot, p);
            }
            Arg::Variable { idents, .. } => {
                return self.eval_variable_node(dot, first, idents, &cmd.args, final_value)
            }
            _ => {}
        }
        self.at(At::Arg(first));
        self.not_a_function(&cmd.args, &final_value)?;
        match first {
            Arg::Bool { value, .. } => Ok(Value::Bool(*value)),
            Arg::Dot { .. } => Ok(dot.clone()),
            Arg::Nil { .. } => self.error("nil is not a command"),
            Arg::Number(n) => self.ideal_constant(first, n),
            Arg::String { text, .. } => Ok(Value::String(text.clone())),
            other => self.error(format!(
                "can't evaluate command {}",
                go_quote::quote(&other.to_string())
            )),
        }
    }

    fn ideal_constant(&mut self, arg: &'t Arg, n: &Number) -> R<Value> {
        self.at(At::Arg(arg));
        if n.is_complex {
            return Ok(Value::Complex(n.float, n.imag));
        }
        let text = &n.text;
        let is_hex_int = text.len() > 2
            && text.starts_with('0')
            && matches!(text.as_bytes()[1], b'x' | b'X')
            && !text.contains(['p', 'P']);
        let is_rune = text.starts_with('\'');
        if n.is_float && !is_hex_int && !is_rune && text.contains(['.', 'e', 'E', 'p', 'P']) {
            return Ok(Value::Float(n.float));
        }
        if n.is_int {
            return Ok(Value::Int(n.int));
        }
        if n.is_float {
            return Ok(Value::Float(n.float));
        }
        self.error(format!("{} overflows int", n.text))
    }

    fn eval_field_node(
        &mut self,
        dot: &Value,
        field: &'t Arg,
        idents: &'t [String],
        args: &'t [Arg],
        final_value: Option<Value>,
    ) -> R<Value> {
        self.at(At::Arg(field));
        self.eval_field_chain(dot, dot.clone(), field, idents, args, final_value)
    }

    fn eval_chain_node(
        &mut self,
        dot: &Value,
        chain: &'t Arg,
        args: &'t [Arg],
        final_value: Option<Value>,
    ) -> R<Value> {
        self.at(At::Arg(chain));
        let Arg::Chain { node, fields, .. } = chain else {
            return self.error("internal error: not a chain");
        };
        if fields.is_empty() {
            return self.error("internal error: no fields in evalChainNode");
        }
        if let Arg::Nil { .. } = node.as_ref() {
            return self.error(format!("indirection through explicit nil in {chain}"));
        }
        let receiver = self.eval_arg(dot, None, node)?;
        self.eval_field_chain(dot, receiver, chain, fields, args, final_value)
    }

    fn eval_variable_node(
        &mut self,
        dot: &Value,
        variable: &'t Arg,
        idents: &'t [String],
        args: &'t [Arg],
        final_value: Option<Value>,
    ) -> R<Value> {
        self.at(At::Arg(variable));
        let name = idents.first().map(String::as_str).unwrap_or("$");
        let Some(value) = self
            .vars
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
        else {
            return self.error(format!("undefined variable: {name}"));
        };
        if idents.len() == 1 {
            self.not_a_function(args, &final_value)?;
            return Ok(value);
        }
        self.eval_field_chain(dot, value, variable, &idents[1..], args, final_value)
    }

    fn eval_field_chain(
        &mut self,
        dot: &Value,
        receiver: Value,
        node: &'t Arg,
        idents: &'t [String],
        args: &'t [Arg],
        final_value: Option<Value>,
    ) -> R<Value> {
        let mut receiver = receiver;
        let n = idents.len();
        for ident in &idents[..n.saturating_sub(1)] {
            receiver = self.eval_field(dot, ident, node, &[], None, receiver)?;
        }
        match idents.last() {
            Some(last) => self.eval_field(dot, last, node, args, final_value, receiver),
            None => Ok(receiver),
        }
    }

    fn eval_field(
        &mut self,
        dot: &Value,
        name: &str,
        node: &'t Arg,
        args: &'t [Arg],
        final_value: Option<Value>,
        receiver: Value,
    ) -> R<Value> {
        let has_args = args.len() > 1 || final_value.is_some();
        if self.dialect == Dialect::Alertmanager {
            if let Some(sig) = alertmanager_method(&receiver, name) {
                let callee = Callee::Method(receiver.clone(), sig);
                return self.eval_call(dot, callee, At::Arg(node), name, args, final_value);
            }
        }
        match &receiver {
            Value::NoValue => return Ok(Value::NoValue),
            Value::Nil => {
                return self.error(format!("nil pointer evaluating interface {{}}.{name}"));
            }
            Value::Time(_) => {
                if let Some((_, sig)) = TIME_METHODS.iter().find(|(m, _)| *m == name) {
                    let callee = Callee::Method(receiver.clone(), *sig);
                    return self.eval_call(dot, callee, At::Arg(node), name, args, final_value);
                }
            }
            Value::Struct(st) => {
                let fields = &st.fields;
                if let Some((_, v)) = fields.iter().find(|(f, _)| f == name) {
                    if has_args {
                        return self.error(format!(
                            "{name} has arguments but cannot be invoked as function"
                        ));
                    }
                    return Ok(v.clone());
                }
            }
            Value::Sample(sample) => {
                let field = match name {
                    "Labels" => Some(Value::StringMap(Arc::new(sample.labels.clone()))),
                    "Value" => Some(Value::Float(sample.value)),
                    _ => None,
                };
                if let Some(v) = field {
                    if has_args {
                        return self.error(format!(
                            "{name} has arguments but cannot be invoked as function"
                        ));
                    }
                    return Ok(v);
                }
            }
            Value::StringMap(map) => {
                if has_args {
                    return self.error(format!("{name} is not a method but has arguments"));
                }
                return Ok(Value::String(map.get(name).cloned().unwrap_or_default()));
            }
            Value::Map(map) => {
                if has_args {
                    return self.error(format!("{name} is not a method but has arguments"));
                }
                return Ok(map.get(name).cloned().unwrap_or(Value::Nil));
            }
            _ => {}
        }
        self.error(format!(
            "can't evaluate field {name} in type {}",
            receiver.type_name()
        ))
    }

    fn eval_function(
        &mut self,
        dot: &Value,
        ident: &'t Arg,
        name: &str,
        call_site: At<'t>,
        args: &'t [Arg],
        final_value: Option<Value>,
    ) -> R<Value> {
        self.at(At::Arg(ident));
        let Some(sig) = funcs::lookup_in(self.dialect, name) else {
            return self.error(format!(
                "{} is not a defined function",
                go_quote::quote(name)
            ));
        };
        self.eval_call(
            dot,
            Callee::Function(sig),
            call_site,
            name,
            args,
            final_value,
        )
    }

    fn eval_call(
        &mut self,
        dot: &Value,
        callee: Callee,
        call_site: At<'t>,
        name: &str,
        args: &'t [Arg],
        final_value: Option<Value>,
    ) -> R<Value> {
        let args: &'t [Arg] = if args.is_empty() { args } else { &args[1..] };
        let sig = match &callee {
            Callee::Function(s) | Callee::Method(_, s) => *s,
        };
        let params = sig.params;
        let num_in = args.len() + usize::from(final_value.is_some());
        let mut num_fixed = args.len();
        if sig.variadic {
            num_fixed = params.len() - 1;
            if num_in < num_fixed {
                return self.error(format!(
                    "wrong number of args for {name}: want at least {} got {}",
                    params.len() - 1,
                    args.len()
                ));
            }
        } else if num_in != params.len() {
            return self.error(format!(
                "wrong number of args for {name}: want {} got {num_in}",
                params.len()
            ));
        }

        if matches!(callee, Callee::Function(_)) && (name == "and" || name == "or") {
            let mut v = Value::NoValue;
            for arg in args {
                v = self.eval_arg(dot, Some(ParamType::Reflect), arg)?;
                if v.is_true() == (name == "or") {
                    return Ok(v);
                }
            }
            if let Some(f) = final_value {
                v = self.validate_type(f, Some(ParamType::Reflect))?;
            }
            return Ok(v);
        }

        let mut argv = Vec::with_capacity(num_in);
        let mut i = 0;
        while i < num_fixed && i < args.len() {
            argv.push(self.eval_arg(dot, Some(params[i]), &args[i])?);
            i += 1;
        }
        if sig.variadic {
            let elem = params[params.len() - 1];
            while i < args.len() {
                argv.push(self.eval_arg(dot, Some(elem), &args[i])?);
                i += 1;
            }
        }
        if let Some(f) = final_value {
            let mut t = params[params.len() - 1];
            if sig.variadic && num_in - 1 < num_fixed {
                t = params[num_in - 1];
            }
            argv.push(self.validate_type(f, Some(t))?);
        }
        let result = match callee {
            Callee::Function(_) => funcs::call_in(self.dialect, name, &argv, self.env),
            Callee::Method(receiver, _) => call_method(&receiver, name, &argv),
        };
        match result {
            Ok(v) => Ok(v),
            Err(e) => {
                self.at(call_site);
                self.error(format!("error calling {name}: {e}"))
            }
        }
    }

    /// `typ` None is Go's untyped argument (the receiver of a chain).
    fn eval_arg(&mut self, dot: &Value, typ: Option<ParamType>, n: &'t Arg) -> R<Value> {
        self.at(At::Arg(n));
        match n {
            Arg::Dot { .. } => return self.validate_type(dot.clone(), typ),
            Arg::Nil { .. } => {
                return match typ {
                    Some(ParamType::Reflect) | None => Ok(Value::NoValue),
                    Some(ParamType::Interface) | Some(ParamType::SamplePtr) => Ok(Value::Nil),
                    Some(ParamType::Samples) => Ok(Value::Samples(Vec::new())),
                    Some(t) => self.error(format!("cannot assign nil to {}", t.go_name())),
                }
            }
            Arg::Field { idents, .. } => {
                let v = self.eval_field_node(dot, n, idents, std::slice::from_ref(n), None)?;
                return self.validate_type(v, typ);
            }
            Arg::Variable { idents, .. } => {
                let v = self.eval_variable_node(dot, n, idents, std::slice::from_ref(n), None)?;
                return self.validate_type(v, typ);
            }
            Arg::Pipe(p) => {
                let v = self.eval_pipeline(dot, p)?;
                return self.validate_type(v, typ);
            }
            Arg::Identifier { name, .. } => {
                let v =
                    self.eval_function(dot, n, name, At::Arg(n), std::slice::from_ref(n), None)?;
                return self.validate_type(v, typ);
            }
            Arg::Chain { .. } => {
                let v = self.eval_chain_node(dot, n, &[], None)?;
                return self.validate_type(v, typ);
            }
            _ => {}
        }
        match typ {
            Some(ParamType::String) => match n {
                Arg::String { text, .. } => Ok(Value::String(text.clone())),
                _ => self.error(format!("expected string; found {n}")),
            },
            Some(ParamType::Interface) | Some(ParamType::Reflect) => match n {
                Arg::Bool { value, .. } => Ok(Value::Bool(*value)),
                Arg::Number(num) => self.ideal_constant(n, num),
                Arg::String { text, .. } => Ok(Value::String(text.clone())),
                _ => self.error(format!(
                    "can't handle assignment of {n} to empty interface argument"
                )),
            },
            Some(t) => self.error(format!("can't handle {n} for arg of type {}", t.go_name())),
            None => self.error(format!("can't handle {n} for arg of type <nil>")),
        }
    }

    fn validate_type(&mut self, value: Value, typ: Option<ParamType>) -> R<Value> {
        let Some(typ) = typ else {
            return Ok(value);
        };
        if value == Value::NoValue {
            return match typ {
                ParamType::Reflect => Ok(Value::NoValue),
                ParamType::Interface | ParamType::SamplePtr => Ok(Value::Nil),
                ParamType::Samples => Ok(Value::Samples(Vec::new())),
                ParamType::String => self.error("invalid value; expected string"),
                ParamType::StringSlice => self.error("invalid value; expected []string"),
            };
        }
        let ok = match typ {
            ParamType::Reflect | ParamType::Interface => true,
            ParamType::String => matches!(value, Value::String(_)),
            ParamType::Samples => matches!(value, Value::Samples(_)),
            ParamType::SamplePtr => matches!(value, Value::Sample(_)),
            ParamType::StringSlice => match &value {
                Value::List(items) => items.iter().all(|item| matches!(item, Value::String(_))),
                _ => false,
            },
        };
        if ok {
            return Ok(value);
        }
        let got = if value == Value::Nil {
            "interface {}".to_string()
        } else {
            value.type_name()
        };
        self.error(format!(
            "wrong type for value; expected {}; got {got}",
            typ.go_name()
        ))
    }
}

const NO_PARAMETERS: Signature = Signature {
    params: &[],
    variadic: false,
};

/// The methods of Alertmanager's notification data, on the values that stand
/// in for its types: `Alerts` (a list of alert structs) has `Firing` and
/// `Resolved`, `KV` (a string map) has `SortedPairs`, `Names`, `Values` and
/// `Remove`, and `Pairs` (a list of pair structs) has `Names` and `Values`.
/// Go finds a method before a map key of the same name.
fn alertmanager_method(receiver: &Value, name: &str) -> Option<Signature> {
    const REMOVE: Signature = Signature {
        params: &[ParamType::StringSlice],
        variadic: false,
    };
    match (receiver, name) {
        (Value::List(items), "Firing" | "Resolved") if items.iter().all(is_alert) => {
            Some(NO_PARAMETERS)
        }
        (Value::List(items), "Names" | "Values") if items.iter().all(is_pair) => {
            Some(NO_PARAMETERS)
        }
        (Value::StringMap(_), "SortedPairs" | "Names" | "Values") => Some(NO_PARAMETERS),
        (Value::StringMap(_), "Remove") => Some(REMOVE),
        _ => None,
    }
}

/// The Go type name of an alert of Alertmanager's notification data.
pub const ALERT_TYPE: &str = "template.Alert";
/// The Go type name of a label pair of Alertmanager's notification data.
pub const PAIR_TYPE: &str = "template.Pair";

fn is_alert(value: &Value) -> bool {
    matches!(value, Value::Struct(st) if st.type_name == ALERT_TYPE)
}

fn is_pair(value: &Value) -> bool {
    matches!(value, Value::Struct(st) if st.type_name == PAIR_TYPE)
}

fn struct_field<'v>(value: &'v Value, field: &str) -> Option<&'v Value> {
    match value {
        Value::Struct(st) => st
            .fields
            .iter()
            .find(|(name, _)| name == field)
            .map(|(_, value)| value),
        _ => None,
    }
}

/// `KV.SortedPairs`: `alertname` first, then the other names in order.
fn sorted_pairs(map: &BTreeMap<String, String>) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = Vec::with_capacity(map.len());
    if let Some(alertname) = map.get("alertname") {
        pairs.push(("alertname".to_owned(), alertname.clone()));
    }
    pairs.extend(
        map.iter()
            .filter(|(name, _)| name.as_str() != "alertname")
            .map(|(name, value)| (name.clone(), value.clone())),
    );
    pairs
}

fn pair_value(name: String, value: String) -> Value {
    Value::Struct(Arc::new(StructValue {
        type_name: PAIR_TYPE.to_owned(),
        fields: vec![
            ("Name".to_owned(), Value::String(name)),
            ("Value".to_owned(), Value::String(value)),
        ],
    }))
}

fn call_alertmanager_method(receiver: &Value, name: &str, args: &[Value]) -> Option<Value> {
    let strings =
        |values: Vec<String>| Value::List(values.into_iter().map(Value::String).collect());
    let result = match (receiver, name) {
        (Value::List(items), "Firing" | "Resolved") => {
            let wanted = if name == "Firing" {
                "firing"
            } else {
                "resolved"
            };
            Value::List(
                items
                    .iter()
                    .filter(|item| {
                        matches!(struct_field(item, "Status"), Some(Value::String(status)) if status == wanted)
                    })
                    .cloned()
                    .collect(),
            )
        }
        (Value::List(items), "Names" | "Values") => {
            let field = if name == "Names" { "Name" } else { "Value" };
            Value::List(
                items
                    .iter()
                    .filter_map(|item| struct_field(item, field).cloned())
                    .collect(),
            )
        }
        (Value::StringMap(map), "SortedPairs") => Value::List(
            sorted_pairs(map)
                .into_iter()
                .map(|(name, value)| pair_value(name, value))
                .collect(),
        ),
        (Value::StringMap(map), "Names") => strings(
            sorted_pairs(map)
                .into_iter()
                .map(|(name, _)| name)
                .collect(),
        ),
        (Value::StringMap(map), "Values") => strings(
            sorted_pairs(map)
                .into_iter()
                .map(|(_, value)| value)
                .collect(),
        ),
        (Value::StringMap(map), "Remove") => {
            let removed: Vec<&Value> = match args.first() {
                Some(Value::List(items)) => items.iter().collect(),
                _ => Vec::new(),
            };
            let kept = map
                .iter()
                .filter(|(name, _)| {
                    !removed
                        .iter()
                        .any(|value| matches!(value, Value::String(text) if text == *name))
                })
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect();
            Value::StringMap(Arc::new(kept))
        }
        _ => return None,
    };
    Some(result)
}

fn call_method(receiver: &Value, name: &str, args: &[Value]) -> Result<Value, String> {
    if let Some(result) = call_alertmanager_method(receiver, name, args) {
        return Ok(result);
    }
    let Value::Time(t) = receiver else {
        return Err(format!(
            "can't call method {name} on {}",
            receiver.type_name()
        ));
    };
    match name {
        "Format" => match args.first() {
            Some(Value::String(layout)) => Ok(Value::String(t.format(layout))),
            _ => Ok(Value::String(t.format(""))),
        },
        "Unix" => Ok(Value::Int(t.seconds)),
        "UnixMilli" => Ok(Value::Int(
            t.seconds
                .saturating_mul(1000)
                .saturating_add(i64::from(t.nanos / 1_000_000)),
        )),
        "UTC" => Ok(Value::Time(*t)),
        "String" => Ok(Value::String(t.go_string())),
        "Year" => Ok(Value::Int(t.format("2006").parse().unwrap_or(0))),
        other => Err(format!("can't call method {other} on *time.Time")),
    }
}
