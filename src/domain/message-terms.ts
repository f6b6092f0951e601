/**
 * How message text becomes search terms, and a query becomes a lookup: one
 * definition for writing the index and reading it. Case-insensitive (lowercase,
 * NFKC), words are runs of letters and digits (any script).
 *
 * A word of 3+ characters is indexed by its prefixes at the LEVELS lengths (3, 5,
 * 7, 10) it reaches: "invoice" by "inv", "invoi", "invoice". A query word is
 * looked up by its longest level prefix, and the candidates are checked against
 * the text ("invo" reads the "inv" entries and keeps the words starting with
 * "invo"). Every prefix length would be exact for every query but cost about
 * twice the documents per message, and each one is a database write on the
 * send path (README "Message search" has the numbers). A two-character word is
 * indexed as itself and matches whole words only ("hi" finds "hi there", not
 * "hint"); one-character words are not indexed.
 */

export const LEVELS = [3, 5, 7, 10] as const;
export const PREFIX_MIN = LEVELS[0];
/** A message is indexed by at most this many distinct terms (bounds the write cost of long messages). */
export const TERMS_MAX = 300;
/** At most this many words of a query count. */
export const QUERY_WORDS_MAX = 5;

export function wordsOf(text: string): string[] {
  return text
    .normalize("NFKC")
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w.length > 0);
}

/** The distinct terms (word prefixes) a message is found by, first words first, at most TERMS_MAX. */
export function termsOf(text: string): string[] {
  const terms = new Set<string>();
  for (const word of new Set(wordsOf(text))) {
    const chars = Array.from(word);
    if (chars.length === 2) terms.add(word);
    for (const n of LEVELS) {
      if (n > chars.length) break;
      terms.add(chars.slice(0, n).join(""));
    }
    if (terms.size >= TERMS_MAX) return [...terms].slice(0, TERMS_MAX);
  }
  return [...terms];
}

export interface ParsedQuery {
  /** The words that must each start a word of the message. */
  words: string[];
  /** The index term looked up: the longest word's (most selective) longest level prefix. */
  lookup: string;
}

/** The term a query word is looked up by: itself (two characters) or its longest level prefix. */
function lookupTerm(word: string): string {
  const chars = Array.from(word);
  if (chars.length < PREFIX_MIN) return word;
  const level = LEVELS.filter((n) => n <= chars.length).at(-1)!;
  return chars.slice(0, level).join("");
}

export function parseQuery(q: string): ParsedQuery | null {
  const words = [...new Set(wordsOf(q))].filter((w) => Array.from(w).length >= 2).slice(0, QUERY_WORDS_MAX);
  if (words.length === 0) return null;
  const longest = words.reduce((a, b) => (Array.from(b).length > Array.from(a).length ? b : a));
  return { words, lookup: lookupTerm(longest) };
}

/** Whether every query word starts some word of the text (a short one: is a word of the text). */
export function matches(text: string, words: string[]): boolean {
  const have = wordsOf(text);
  return words.every((w) => (Array.from(w).length < PREFIX_MIN ? have.includes(w) : have.some((h) => h.startsWith(w))));
}
