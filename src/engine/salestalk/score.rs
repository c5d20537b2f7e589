//! The lexical score of `check_framing`: a logistic regression over the words of a sentence,
//! trained offline by `scripts/train-salestalk.py` on `tests/data/framing/` (train and heldout
//! parts) and committed as `src/engine/salestalk_weights.tsv`. This side only sums weights.
//!
//! Features of a sentence (binary, each counted once): its normalised words (`w:`), adjacent
//! word pairs with `^` marking the start (`b:`), adjacent pairs of the words' classes (`k:`),
//! the word classes of
//! `src/engine/salestalk_lexicon.tsv` it contains (`c:`) and pairs of those classes (`p:`).
//! The sentence is sales talk when the bias plus its features' weights exceeds the threshold
//! and at least one feature that weighs towards sales belongs to a category; the category
//! whose features weigh most explains the finding. Keep the text-to-features code in step
//! with the script: the test `framing` checks the two agree.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::LazyLock;

use crate::model::results::SalesCategory;

const LEXICON: &str = include_str!("../salestalk_lexicon.tsv");
const WEIGHTS: &str = include_str!("../salestalk_weights.tsv");

/// A normalised word and where it is in the sentence (byte offsets).
struct Token {
    text: String,
    start: usize,
    end: usize,
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || (!c.is_ascii() && c.is_alphabetic())
}

/// Lowercase, `’` as `'`, each run of digits as `0`, British `-ise`/`-isation` and "licence"
/// in US spelling, a plural `s` dropped.
fn norm(tok: &str) -> String {
    let lower = tok.to_lowercase().replace('\u{2019}', "'");
    let mut t = String::with_capacity(lower.len());
    let mut prev_digit = false;
    for c in lower.chars() {
        if c.is_ascii_digit() {
            if !prev_digit {
                t.push('0');
            }
            prev_digit = true;
        } else {
            t.push(c);
            prev_digit = false;
        }
    }
    let mut t = t
        .replace("licenc", "licens")
        .replace("programme", "program")
        .replace("isation", "ization");
    for (a, b) in [("ised", "ized"), ("ising", "izing"), ("ise", "ize")] {
        if t.ends_with(a) && t.chars().count() > a.len() + 2 {
            t.truncate(t.len() - a.len());
            t.push_str(b);
            break;
        }
    }
    if t.chars().count() > 3 && t.ends_with('s') && !t.ends_with("ss") && !t.ends_with("'s") {
        t.pop();
    }
    t
}

fn tokens(text: &str) -> Vec<Token> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let at = |k: usize| chars.get(k).map_or(text.len(), |&(o, _)| o);
    let word = |k: usize| chars.get(k).is_some_and(|&(_, c)| is_word_char(c));
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&(start, c)) = chars.get(i) {
        if is_word_char(c) {
            let mut j = i + 1;
            while let Some(&(_, cj)) = chars.get(j) {
                if is_word_char(cj) {
                    j += 1;
                } else if matches!(cj, '\'' | '\u{2019}' | '-') && word(j + 1) {
                    j += 2;
                } else {
                    break;
                }
            }
            let end = at(j);
            out.push(Token {
                text: norm(text.get(start..end).unwrap_or("")),
                start,
                end,
            });
            i = j;
        } else {
            let p = match c {
                '!' => Some("!"),
                '?' => Some("?"),
                '%' => Some("%"),
                '$' | '€' | '£' => Some("<cur>"),
                _ => None,
            };
            if let Some(p) = p {
                out.push(Token {
                    text: p.to_string(),
                    start,
                    end: start + c.len_utf8(),
                });
            }
            i += 1;
        }
    }
    out
}

struct Class {
    name: String,
    category: Option<SalesCategory>,
    entries: HashSet<String>,
}

fn category_named(name: &str) -> Option<SalesCategory> {
    match name {
        "quota" => Some(SalesCategory::Quota),
        "discount" => Some(SalesCategory::Discount),
        "urgency" => Some(SalesCategory::Urgency),
        "pitch" => Some(SalesCategory::Pitch),
        "our_product" => Some(SalesCategory::OurProduct),
        "transactional" => Some(SalesCategory::Transactional),
        _ => None,
    }
}

/// The word classes, in the file's order (which is also the order categories are tried in).
static CLASSES: LazyLock<Vec<Class>> = LazyLock::new(|| {
    LEXICON
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let mut parts = l.split('\t');
            let name = parts.next()?.to_string();
            let category = category_named(parts.next()?);
            let entries = parts
                .next()?
                .split(',')
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .map(|e| {
                    tokens(e)
                        .into_iter()
                        .map(|t| t.text)
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .collect();
            Some(Class {
                name,
                category,
                entries,
            })
        })
        .collect()
});

struct Model {
    bias: f64,
    threshold: f64,
    weights: HashMap<String, f64>,
}

static MODEL: LazyLock<Model> = LazyLock::new(|| {
    let mut m = Model {
        bias: 0.0,
        // Without a threshold line nothing is flagged by the score.
        threshold: f64::INFINITY,
        weights: HashMap::new(),
    };
    for l in WEIGHTS.lines().filter(|l| !l.starts_with('#')) {
        let Some((name, w)) = l.split_once('\t') else {
            continue;
        };
        let Ok(w) = w.parse::<f64>() else {
            continue;
        };
        match name {
            "bias" => m.bias = w,
            "threshold" => m.threshold = w,
            _ => {
                m.weights.insert(name.to_string(), w);
            }
        }
    }
    m
});

/// One feature of a sentence: its weight, the category it speaks for and the words it rests
/// on (byte offsets in the sentence).
struct Feature {
    weight: f64,
    category: Option<SalesCategory>,
    span: (usize, usize),
}

/// The category of a word or word pair: that of the first class (in file order) holding it.
fn category_of(gram: &str) -> Option<SalesCategory> {
    CLASSES
        .iter()
        .find(|c| c.category.is_some() && c.entries.contains(gram))
        .and_then(|c| c.category)
}

/// A word class's name, `_` for none.
fn class_name(c: Option<&Class>) -> &str {
    c.map_or("_", |c| c.name.as_str())
}

/// A sentence's features by name (sorted, as the script sums them).
fn features(sentence: &str) -> BTreeMap<String, Feature> {
    let toks = tokens(sentence);
    let weight = |name: &str| MODEL.weights.get(name).copied().unwrap_or(0.0);
    let mut fs: BTreeMap<String, Feature> = BTreeMap::new();
    let add = |fs: &mut BTreeMap<String, Feature>,
               name: String,
               category: Option<SalesCategory>,
               span: (usize, usize)| {
        let w = weight(&name);
        fs.entry(name).or_insert(Feature {
            weight: w,
            category,
            span,
        });
    };
    // The words and word pairs, in order, with their spans.
    let mut grams: Vec<(String, (usize, usize))> = Vec::new();
    let mut prev: Option<&Token> = None;
    for t in &toks {
        let word_cat = category_of(&t.text);
        add(&mut fs, format!("w:{}", t.text), word_cat, (t.start, t.end));
        grams.push((t.text.clone(), (t.start, t.end)));
        match prev {
            None => add(
                &mut fs,
                format!("b:^ {}", t.text),
                word_cat,
                (t.start, t.end),
            ),
            Some(p) => {
                let pair = format!("{} {}", p.text, t.text);
                let cat = category_of(&pair)
                    .or_else(|| category_of(&p.text))
                    .or(word_cat);
                add(&mut fs, format!("b:{pair}"), cat, (p.start, t.end));
                grams.push((pair, (p.start, t.end)));
            }
        }
        prev = Some(t);
    }
    // The sequence of word classes ("_" for a word in none), as adjacent pairs.
    let class_of = |t: &Token| CLASSES.iter().find(|c| c.entries.contains(&t.text));
    let mut prev: Option<(Option<&Class>, &Token)> = None;
    for t in &toks {
        let c = class_of(t);
        match prev {
            None => add(
                &mut fs,
                format!("k:^ {}", class_name(c)),
                c.and_then(|c| c.category),
                (t.start, t.end),
            ),
            Some((pc, p)) if pc.is_some() || c.is_some() => add(
                &mut fs,
                format!("k:{} {}", class_name(pc), class_name(c)),
                pc.and_then(|c| c.category)
                    .or_else(|| c.and_then(|c| c.category)),
                (p.start, t.end),
            ),
            Some(_) => {}
        }
        prev = Some((c, t));
    }
    // The classes present, by name, with the first words of each.
    let mut present: Vec<(&Class, (usize, usize))> = CLASSES
        .iter()
        .filter_map(|c| {
            grams
                .iter()
                .find(|(g, _)| c.entries.contains(g))
                .map(|(_, span)| (c, *span))
        })
        .collect();
    present.sort_by(|a, b| a.0.name.cmp(&b.0.name));
    for (c, span) in &present {
        add(&mut fs, format!("c:{}", c.name), c.category, *span);
    }
    for (i, (a, sa)) in present.iter().enumerate() {
        for (b, sb) in present.iter().skip(i + 1) {
            // The pair speaks for the category of its first class in file order.
            let rank = |c: &Class| CLASSES.iter().position(|x| x.name == c.name);
            let (cat, span) = match (a.category, b.category) {
                (Some(_), Some(_)) if rank(b) < rank(a) => (b.category, *sb),
                (Some(_), _) => (a.category, *sa),
                (None, Some(_)) => (b.category, *sb),
                (None, None) => (None, *sa),
            };
            add(&mut fs, format!("p:{}+{}", a.name, b.name), cat, span);
        }
    }
    fs
}

/// The score of a sentence: bias plus the weights of its features, summed in name order.
pub fn score(sentence: &str) -> f64 {
    features(sentence)
        .values()
        .fold(MODEL.bias, |z, f| z + f.weight)
}

/// Why the score calls a sentence sales talk.
pub struct Scored {
    pub score: f64,
    pub threshold: f64,
    pub category: SalesCategory,
    /// The words of the heaviest feature of that category.
    pub cue: String,
    /// The words of the (up to three) heaviest features towards sales, heaviest first.
    pub top: Vec<String>,
}

/// The sentence's score and its explanation when it is over the threshold, else `None`.
pub fn classify(sentence: &str) -> Option<Scored> {
    let fs = features(sentence);
    let z = fs.values().fold(MODEL.bias, |z, f| z + f.weight);
    if z <= MODEL.threshold {
        return None;
    }
    let words = |span: (usize, usize)| sentence.get(span.0..span.1).unwrap_or("").to_string();
    // Towards sales, heaviest first; ties by name (the map's order).
    let mut towards: Vec<(&String, &Feature)> = fs
        .iter()
        .filter(|(_, f)| f.weight > 0.0 && f.category.is_some())
        .collect();
    towards.sort_by(|a, b| b.1.weight.total_cmp(&a.1.weight));
    // The category whose features weigh most, ties to the file's order.
    let mut best: Option<(SalesCategory, f64)> = None;
    for c in CLASSES.iter().filter_map(|c| c.category) {
        if best.is_some_and(|(b, _)| b == c) {
            continue;
        }
        let sum: f64 = towards
            .iter()
            .filter(|(_, f)| f.category == Some(c))
            .map(|(_, f)| f.weight)
            .sum();
        if sum > 0.0 && best.is_none_or(|(_, s)| sum > s) {
            best = Some((c, sum));
        }
    }
    let (category, _) = best?;
    let cue = towards
        .iter()
        .find(|(_, f)| f.category == Some(category))
        .map(|(_, f)| words(f.span))?;
    let mut top: Vec<String> = Vec::new();
    for (_, f) in &towards {
        let w = words(f.span);
        if !top.contains(&w) {
            top.push(w);
        }
        if top.len() == 3 {
            break;
        }
    }
    Some(Scored {
        score: z,
        threshold: MODEL.threshold,
        category,
        cue,
        top,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_like_the_script() {
        let t: Vec<String> = tokens("We'd love 20% off Q3 licences — 1,200 seats! Organise it")
            .into_iter()
            .map(|t| t.text)
            .collect();
        assert_eq!(
            t,
            [
                "we'd", "love", "0", "%", "off", "q0", "license", "0", "0", "seat", "!",
                "organize", "it"
            ]
        );
    }

    #[test]
    fn the_weights_and_lexicon_load() {
        assert!(MODEL.threshold.is_finite());
        assert!(MODEL.weights.len() > 1000);
        assert!(CLASSES.len() >= 10);
    }
}
