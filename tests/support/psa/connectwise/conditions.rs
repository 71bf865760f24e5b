//! ConnectWise's `conditions` (`identifier = "Acme" and deletedFlag = false`, `status/name like
//! "Act%"`, `_info/lastUpdated > [2025-01-01T00:00:00Z]`, `id in (1, 2)`) and `orderBy`.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Number(f64),
    Text(String),
    Bool(bool),
    Null,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Like,
    Contains,
}

#[derive(Debug)]
pub enum Condition {
    And(Box<Condition>, Box<Condition>),
    Or(Box<Condition>, Box<Condition>),
    Compare(String, Op, Literal),
    In(String, Vec<Literal>, bool),
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    Comma,
    Word(String),
    Op(Op),
    Text(String),
}

pub fn parse(text: &str) -> Result<Condition, String> {
    let tokens = tokenize(text)?;
    let mut at = 0;
    let condition = or_expr(&tokens, &mut at)?;
    match tokens.get(at) {
        None => Ok(condition),
        Some(t) => Err(format!("Unexpected {t:?} in the conditions.")),
    }
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        i += 1;
        match c {
            c if c.is_whitespace() => {}
            '(' => tokens.push(Token::Open),
            ')' => tokens.push(Token::Close),
            ',' => tokens.push(Token::Comma),
            '"' | '\'' | '[' => {
                let end = if c == '[' { ']' } else { c };
                let mut value = String::new();
                loop {
                    match chars.get(i) {
                        None => return Err("An unterminated value in the conditions.".into()),
                        Some('\\') if end != ']' => {
                            value.extend(chars.get(i + 1));
                            i += 2;
                        }
                        Some(&ch) if ch == end => {
                            i += 1;
                            break;
                        }
                        Some(&ch) => {
                            value.push(ch);
                            i += 1;
                        }
                    }
                }
                tokens.push(Token::Text(value));
            }
            '=' => tokens.push(Token::Op(Op::Eq)),
            '!' | '<' | '>' => {
                let next_eq = chars.get(i) == Some(&'=');
                let op = match (c, next_eq, chars.get(i)) {
                    ('!', true, _) => Op::Ne,
                    ('<', _, Some('>')) => Op::Ne,
                    ('<', true, _) => Op::Le,
                    ('<', false, _) => Op::Lt,
                    ('>', true, _) => Op::Ge,
                    ('>', false, _) => Op::Gt,
                    _ => return Err("A lone '!' in the conditions.".into()),
                };
                if next_eq || (c == '<' && chars.get(i) == Some(&'>')) {
                    i += 1;
                }
                tokens.push(Token::Op(op));
            }
            c if c.is_alphanumeric() || "_/.-+".contains(c) => {
                let mut word = c.to_string();
                while let Some(&ch) = chars.get(i) {
                    if !(ch.is_alphanumeric() || "_/.-+:".contains(ch)) {
                        break;
                    }
                    word.push(ch);
                    i += 1;
                }
                tokens.push(Token::Word(word));
            }
            other => {
                return Err(format!(
                    "The character {other:?} is not valid in conditions."
                ));
            }
        }
    }
    Ok(tokens)
}

fn keyword(tokens: &[Token], at: usize, word: &str) -> bool {
    matches!(tokens.get(at), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
}

fn or_expr(tokens: &[Token], at: &mut usize) -> Result<Condition, String> {
    let mut left = and_expr(tokens, at)?;
    while keyword(tokens, *at, "or") {
        *at += 1;
        left = Condition::Or(Box::new(left), Box::new(and_expr(tokens, at)?));
    }
    Ok(left)
}

fn and_expr(tokens: &[Token], at: &mut usize) -> Result<Condition, String> {
    let mut left = atom(tokens, at)?;
    while keyword(tokens, *at, "and") {
        *at += 1;
        left = Condition::And(Box::new(left), Box::new(atom(tokens, at)?));
    }
    Ok(left)
}

fn atom(tokens: &[Token], at: &mut usize) -> Result<Condition, String> {
    if tokens.get(*at) == Some(&Token::Open) {
        *at += 1;
        let inner = or_expr(tokens, at)?;
        if tokens.get(*at) != Some(&Token::Close) {
            return Err("A '(' without its ')' in the conditions.".into());
        }
        *at += 1;
        return Ok(inner);
    }
    let Some(Token::Word(field)) = tokens.get(*at) else {
        return Err("A field name was expected in the conditions.".into());
    };
    *at += 1;
    let negated = keyword(tokens, *at, "not");
    if negated {
        *at += 1;
    }
    if keyword(tokens, *at, "in") {
        *at += 1;
        return Ok(Condition::In(field.clone(), list(tokens, at)?, negated));
    }
    let op = match tokens.get(*at) {
        Some(Token::Op(op)) if !negated => *op,
        Some(Token::Word(w)) if w.eq_ignore_ascii_case("like") => Op::Like,
        Some(Token::Word(w)) if w.eq_ignore_ascii_case("contains") => Op::Contains,
        _ => return Err(format!("An operator was expected after {field:?}.")),
    };
    *at += 1;
    let value = literal(tokens.get(*at))?;
    *at += 1;
    Ok(Condition::Compare(field.clone(), op, value))
}

fn list(tokens: &[Token], at: &mut usize) -> Result<Vec<Literal>, String> {
    if tokens.get(*at) != Some(&Token::Open) {
        return Err("'in' takes a list in parentheses.".into());
    }
    *at += 1;
    let mut values = Vec::new();
    loop {
        values.push(literal(tokens.get(*at))?);
        *at += 1;
        match tokens.get(*at) {
            Some(Token::Comma) => *at += 1,
            Some(Token::Close) => {
                *at += 1;
                return Ok(values);
            }
            _ => return Err("A list in the conditions lacks its ')'.".into()),
        }
    }
}

fn literal(token: Option<&Token>) -> Result<Literal, String> {
    match token {
        Some(Token::Text(t)) => Ok(Literal::Text(t.clone())),
        Some(Token::Word(w)) if w.eq_ignore_ascii_case("true") => Ok(Literal::Bool(true)),
        Some(Token::Word(w)) if w.eq_ignore_ascii_case("false") => Ok(Literal::Bool(false)),
        Some(Token::Word(w)) if w.eq_ignore_ascii_case("null") => Ok(Literal::Null),
        Some(Token::Word(w)) => w
            .parse::<f64>()
            .map(Literal::Number)
            .map_err(|_| format!("{w:?} is not a value; quote text with \"\".")),
        _ => Err("A value was expected in the conditions.".into()),
    }
}

/// The value at a `/`-separated path, keys compared without regard to case.
fn lookup<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('/').try_fold(value, |v, key| {
        v.as_object()?
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

fn compare(actual: Option<&Value>, op: Op, literal: &Literal) -> bool {
    let actual = actual.filter(|v| !v.is_null());
    let ordering = match (actual, literal) {
        (None, Literal::Null) => Some(std::cmp::Ordering::Equal),
        (None, _) | (Some(_), Literal::Null) => None,
        (Some(v), Literal::Number(n)) => v.as_f64().and_then(|a| a.partial_cmp(n)),
        (Some(v), Literal::Bool(b)) => v.as_bool().map(|a| a.cmp(b)),
        (Some(v), Literal::Text(t)) => {
            let a = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
            let (a, t) = (a.to_lowercase(), t.to_lowercase());
            match op {
                Op::Like => return like(&a, &t),
                Op::Contains => return a.contains(&t),
                _ => Some(a.cmp(&t)),
            }
        }
    };
    use std::cmp::Ordering::{Equal, Greater, Less};
    match (op, ordering) {
        (Op::Ne, o) => o != Some(Equal),
        (_, None) => false,
        (Op::Eq | Op::Like | Op::Contains, Some(o)) => o == Equal,
        (Op::Lt, Some(o)) => o == Less,
        (Op::Le, Some(o)) => o != Greater,
        (Op::Gt, Some(o)) => o == Greater,
        (Op::Ge, Some(o)) => o != Less,
    }
}

/// `%` and `*` match any run of characters.
fn like(text: &str, pattern: &str) -> bool {
    let parts: Vec<&str> = pattern.split(['%', '*']).collect();
    let (Some(first), Some(last)) = (parts.first(), parts.last()) else {
        return text.is_empty();
    };
    if parts.len() == 1 {
        return text == pattern;
    }
    if !text.starts_with(first) || !text[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

impl Condition {
    pub fn matches(&self, company: &Value) -> bool {
        match self {
            Condition::And(a, b) => a.matches(company) && b.matches(company),
            Condition::Or(a, b) => a.matches(company) || b.matches(company),
            Condition::Compare(field, op, literal) => compare(lookup(company, field), *op, literal),
            Condition::In(field, values, negated) => {
                let actual = lookup(company, field);
                values.iter().any(|v| compare(actual, Op::Eq, v)) != *negated
            }
        }
    }
}

/// Sorts by `orderBy` (`name desc`, `id asc, name`).
pub fn order_by(items: &mut [Value], order: &str) {
    let keys: Vec<(String, bool)> = order
        .split(',')
        .filter_map(|key| {
            let mut words = key.split_whitespace();
            let field = words.next()?.to_owned();
            let descending = words.next().is_some_and(|w| w.eq_ignore_ascii_case("desc"));
            Some((field, descending))
        })
        .collect();
    items.sort_by(|a, b| {
        keys.iter()
            .map(|(field, descending)| {
                let ordering = order_values(lookup(a, field), lookup(b, field));
                if *descending {
                    ordering.reverse()
                } else {
                    ordering
                }
            })
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
}

fn order_values(a: Option<&Value>, b: Option<&Value>) -> std::cmp::Ordering {
    match (a.and_then(Value::as_f64), b.and_then(Value::as_f64)) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        _ => {
            let text = |v: Option<&Value>| {
                v.map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_lowercase))
            };
            text(a).cmp(&text(b))
        }
    }
}
