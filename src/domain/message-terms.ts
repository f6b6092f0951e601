/**
 * How message text becomes search terms, and a query becomes a lookup: one
 * definition for writing the index and reading it. Case-insensitive (lowercase,
 * NFKC), words are runs of letters and digits (any script). A word is indexed
 * by its prefixes of PREFIX_MIN..PREFIX_MAX characters (a shorter word by
 * itself), so a prefix query is one equality lookup; longer query words are
 * looked up by their first PREFIX_MAX characters and checked against the text.
 * A query word shorter than PREFIX_MIN matches whole words only ("hi" finds
 * "hi there", not "hint"): one- and two-letter prefixes would double the index
 * for little use.
 */

export const PREFIX_MIN = 3;
export const PREFIX_MAX = 10;
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
    if (chars.length < PREFIX_MIN) terms.add(word);
    for (let n = PREFIX_MIN; n <= Math.min(chars.length, PREFIX_MAX); n++) {
      terms.add(chars.slice(0, n).join(""));
      if (terms.size >= TERMS_MAX) return [...terms];
    }
  }
  return [...terms];
}

export interface ParsedQuery {
  /** The words that must each start a word of the message. */
  words: string[];
  /** The index term looked up: the longest word's (most selective) first PREFIX_MAX characters. */
  lookup: string;
}

export function parseQuery(q: string): ParsedQuery | null {
  const words = [...new Set(wordsOf(q))].slice(0, QUERY_WORDS_MAX);
  if (words.length === 0) return null;
  const longest = words.reduce((a, b) => (Array.from(b).length > Array.from(a).length ? b : a));
  return { words, lookup: Array.from(longest).slice(0, PREFIX_MAX).join("") };
}

/** Whether every query word starts some word of the text (a short one: is a word of the text). */
export function matches(text: string, words: string[]): boolean {
  const have = wordsOf(text);
  return words.every((w) => (Array.from(w).length < PREFIX_MIN ? have.includes(w) : have.some((h) => h.startsWith(w))));
}
