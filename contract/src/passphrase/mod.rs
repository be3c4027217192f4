//! The passwords owners set on links: whether one is strong enough, and a generated passphrase
//! to offer instead of a weak one. One rule for the CLI (`gatefold password`) and the admin API
//! (which the admin page uses); the visitor's path never runs it.
//!
//! The estimate is deliberately compact (it is compiled into the worker, which every visitor
//! loads; a full `zxcvbn` with its dictionaries would add about half of the worker's size): it
//! prices a password the way an online guesser tries them, as the cheapest split into pieces
//! — one of the most common passwords or words, a word of the site, gallery or link being
//! protected, a keyboard row or an alphabet or digit run, a repeat, a year — with every other
//! character costing its class's size. Guessing online is also bounded by the link's throttle
//! (`edge-worker/src/password.rs`), so the estimate only has to keep the first guesses out.

/// Estimated bits a password needs: about 10^15 guesses, far beyond any online guesser.
pub const MIN_BITS: f64 = 50.0;

mod common;
use common::COMMON;

/// The longest [`COMMON`] entry, in characters: longer pieces are not looked up.
const LONGEST_COMMON: usize = 13;

/// Cost of a [`COMMON`] match: a list of a few hundred, plus variants (case, leet).
const COMMON_BITS: f64 = 10.0;
/// Cost of a word of the site, gallery or link: the guesser reads them on the page.
const CONTEXT_BITS: f64 = 2.0;
/// Rows a keyboard run follows (and their reverse).
const KEYBOARD: [&str; 4] = ["1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm"];
const ALPHABET: &str = "abcdefghijklmnopqrstuvwxyz";

/// Why a password was refused: a sentence for the owner, and the estimate.
#[derive(Debug, Clone, PartialEq)]
pub struct Weak {
    pub bits: f64,
    pub message: String,
}

/// Lower case with the usual letter stand-ins undone, character by character (so indices
/// match the password's), in the two readings of `1`.
fn readings(password: &str) -> [Vec<char>; 2] {
    let read = |one: char| {
        password
            .chars()
            .flat_map(char::to_lowercase)
            .map(|c| match c {
                '0' => 'o',
                '1' => one,
                '3' => 'e',
                '4' | '@' => 'a',
                '5' | '$' => 's',
                '7' => 't',
                '!' => 'i',
                c => c,
            })
            .collect()
    };
    [read('i'), read('l')]
}

/// A character's share of a blind guess: the size of its class.
fn char_bits(c: char) -> f64 {
    match c {
        '0'..='9' => 10f64.log2(),
        'a'..='z' | 'A'..='Z' => 26f64.log2(),
        ' '..='~' => 33f64.log2(),
        // Anything else (CJK above all): a few thousand characters in common use.
        _ => 2000f64.log2(),
    }
}

/// Whether `run` steps one by one along `line`, forwards or backwards.
fn along(run: &[char], line: &str) -> bool {
    let line: Vec<char> = line.chars().collect();
    let pos: Option<Vec<usize>> = run.iter().map(|c| line.iter().position(|l| l == c)).collect();
    let Some(pos) = pos else { return false };
    pos.windows(2).all(|w| w[1] == w[0] + 1) || pos.windows(2).all(|w| w[0] == w[1] + 1)
}

/// The cheapest price of the piece `[i, j)` of the password as a pattern, if it is one.
fn pattern_bits(raw: &[char], reading: &[char], context: &[String], i: usize, j: usize) -> Option<f64> {
    let piece: String = reading[i..j].iter().collect();
    let len = (j - i) as f64;
    let mut best: Option<f64> = None;
    let mut offer = |bits: f64| best = Some(best.map_or(bits, |b: f64| b.min(bits)));
    let capitals = raw[i..j].iter().any(|c| c.is_uppercase());
    let stand_ins = raw[i..j].iter().zip(&reading[i..j]).any(|(r, n)| r.to_lowercase().next() != Some(*n));
    let variants = f64::from(u8::from(capitals)) + f64::from(u8::from(stand_ins));
    if context.contains(&piece) {
        offer(CONTEXT_BITS + variants);
    }
    if j - i <= LONGEST_COMMON && COMMON.binary_search(&piece.as_str()).is_ok() {
        offer(COMMON_BITS + variants);
    }
    let lower: Vec<char> = raw[i..j].iter().flat_map(|c| c.to_lowercase()).collect();
    if j - i >= 3 {
        if lower.iter().all(|c| *c == lower[0]) {
            offer(char_bits(lower[0]) + len.log2());
        }
        if KEYBOARD.iter().chain([&ALPHABET]).any(|line| along(&lower, line)) {
            offer(char_bits(lower[0]) + len.log2() + 1.0);
        }
        // A repeat of the piece just before it: the guesser already paid for it.
        let n = j - i;
        if i >= n && lower == raw[i - n..i].iter().flat_map(|c| c.to_lowercase()).collect::<Vec<_>>() {
            offer(1.0 + len.log2());
        }
    }
    if j - i == 4 {
        let year: String = raw[i..j].iter().collect();
        if year.parse::<u32>().is_ok_and(|y| (1900..=2099).contains(&y)) {
            offer(200f64.log2());
        }
    }
    best
}

/// The estimated bits of `password` for a guesser who knows `context` (the names and titles
/// of the site, gallery and link; split into words here).
pub fn bits(password: &str, context: &[&str]) -> f64 {
    let context: Vec<String> = context
        .iter()
        .flat_map(|t| t.split(|c: char| !c.is_alphanumeric()).map(str::to_lowercase).collect::<Vec<_>>())
        .filter(|w| w.chars().count() >= 3)
        .collect();
    let raw: Vec<char> = password.chars().collect();
    readings(password)
        .iter()
        .map(|reading| {
            // best[j]: the cheapest price of the first j characters.
            let mut best = vec![f64::INFINITY; raw.len() + 1];
            best[0] = 0.0;
            for j in 1..=raw.len() {
                let blind = best[j - 1] + char_bits(raw[j - 1]);
                let patterned = (0..j).filter_map(|i| pattern_bits(&raw, reading, &context, i, j).map(|p| best[i] + p));
                best[j] = patterned.fold(blind, f64::min);
            }
            best[raw.len()]
        })
        .fold(f64::INFINITY, f64::min)
}

/// Whether an owner may set `password` on a link known by `context`; the refusal says why in
/// a sentence (never repeating the password).
pub fn check(password: &str, context: &[&str]) -> Result<(), Weak> {
    let b = bits(password, context);
    if b >= MIN_BITS {
        return Ok(());
    }
    Err(Weak {
        bits: b,
        message: format!(
            "the password is too easy to guess (about {:.0} bits, {MIN_BITS:.0} needed): avoid common passwords, names of the gallery or \
             link, years, keyboard rows and repeats; a few unrelated words, or a generated passphrase, are strong",
            b.floor()
        ),
    })
}

/// Syllables of a generated passphrase: 16 consonants × 5 vowels, easy to read out and to type
/// on a phone, in any language's keyboard.
const CONSONANTS: &[u8; 16] = b"bdfghjklmnprstvz";
const VOWELS: &[u8; 5] = b"aeiou";
const SYLLABLES: usize = CONSONANTS.len() * VOWELS.len();

/// A passphrase of four three-syllable words (`tabesu-morika-venupo-dalise`): 12 syllables of
/// 80, about 76 bits. `fill` is the caller's secure random source (Web Crypto in the worker,
/// the OS in the CLI), asked to fill a buffer whenever it runs out; bytes that would bias the
/// choice are skipped. Its first error is returned, and no passphrase.
pub fn generate<E>(mut fill: impl FnMut(&mut [u8]) -> Result<(), E>) -> Result<String, E> {
    let mut buf = [0u8; 64];
    let mut used = buf.len();
    let mut out = String::with_capacity(27);
    for i in 0..12 {
        if i > 0 && i % 3 == 0 {
            out.push('-');
        }
        let s = loop {
            if used == buf.len() {
                fill(&mut buf)?;
                used = 0;
            }
            let b = usize::from(buf[used]);
            used += 1;
            if b < 256 - 256 % SYLLABLES {
                break b % SYLLABLES;
            }
        };
        out.push(CONSONANTS[s / VOWELS.len()] as char);
        out.push(VOWELS[s % VOWELS.len()] as char);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weak(p: &str) -> bool {
        check(p, &["Aurora launch", "aurora-launch", "dealers", "Dealer 007"]).is_err()
    }

    #[test]
    fn the_first_guesses_are_refused() {
        for p in [
            "password", "Password1", "P@ssw0rd123", "passw0rd!", "12345678", "123456789012", "qwertyuiop", "asdfghjkl;", "abcdefghijk",
            "11111111111", "Summer2024!", "iloveyou2026", "letmein12345", "aurora-launch-2026", "Dealer007dealer", "密码密码密码",
            "abcabcabcabc", "woaini1314520", "zxcvbnm,./", "AuroraLaunch!1", "Elephant2023!", "butterfly2024!", "Basketball2024",
        ] {
            assert!(weak(p), "{p} ({:.1} bits) should be refused", bits(p, &["Aurora launch", "aurora-launch", "dealers", "Dealer 007"]));
        }
    }

    #[test]
    fn the_word_list_is_sorted_lower_case_and_no_longer_than_its_bound() {
        assert!(COMMON.windows(2).all(|w| w[0] < w[1]), "sorted and without repeats, for the binary search");
        assert!(COMMON.iter().all(|w| w.chars().count() <= LONGEST_COMMON && w.to_lowercase() == *w));
        assert_eq!(COMMON.iter().map(|w| w.chars().count()).max(), Some(LONGEST_COMMON));
    }

    #[test]
    fn unrelated_words_and_random_strings_pass() {
        for p in ["correct horse 1", "correct horse battery staple", "battery staple 6", "tabesu-morika-venupo", "Kx9#mQ2$vL8@pZ", "我的产品图库很漂亮啊", "mauve otter tunnel"] {
            assert!(!weak(p), "{p} ({:.1} bits) should pass", bits(p, &[]));
        }
    }

    #[test]
    fn the_refusal_explains_without_repeating_the_password() {
        let e = check("Summer2024!", &[]).unwrap_err();
        assert!(e.bits < MIN_BITS);
        assert!(e.message.contains("too easy to guess") && e.message.contains("generated passphrase"), "{}", e.message);
        assert!(!e.message.contains("Summer"));
    }

    #[test]
    fn a_generated_passphrase_is_four_words_of_three_syllables_and_strong() {
        let mut bytes = (0u8..=255).cycle().skip(7);
        let p = generate(|buf: &mut [u8]| {
            buf.iter_mut().for_each(|b| *b = bytes.next().unwrap());
            Ok::<_, ()>(())
        })
        .unwrap();
        let words: Vec<&str> = p.split('-').collect();
        assert_eq!(words.len(), 4, "{p}");
        for w in &words {
            assert_eq!(w.len(), 6, "{p}");
            assert!(w.bytes().enumerate().all(|(i, b)| if i % 2 == 0 { CONSONANTS.contains(&b) } else { VOWELS.contains(&b) }), "{p}");
        }
        assert!(check(&p, &[]).is_ok(), "{p}: {:.1} bits", bits(&p, &[]));
        // Bytes at or past 240 would favour the first syllables: they are skipped.
        let high = |buf: &mut [u8]| {
            buf.iter_mut().zip([255u8, 250, 240, 0].into_iter().cycle()).for_each(|(b, v)| *b = v);
            Ok::<_, ()>(())
        };
        assert!(generate(high).unwrap().starts_with("ba"), "only the byte 0 is used");
        assert_eq!(generate(|_: &mut [u8]| Err("no randomness")), Err("no randomness"), "a failing source gives no passphrase");
    }
}
