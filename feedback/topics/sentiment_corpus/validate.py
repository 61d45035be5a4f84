"""Check the sentiment training corpus and print its counts as Markdown tables.

Run from the repository root: ``python feedback/topics/sentiment_corpus/validate.py``.
Exits non-zero if a line does not parse, a field is outside the allowed sets,
``praise`` carries a label other than positive, or two texts in a file are
duplicates or near-duplicates (same normalised text, or Jaccard similarity of
0.8 or more over lowercase words for English, character bigrams for Chinese).
"""

import collections
import itertools
import json
import pathlib
import re
import sys
import unicodedata

HERE = pathlib.Path(__file__).resolve().parent
LABELS = ["negative", "positive", "neutral", "mixed"]
DOMAINS = ["delivery", "support", "billing", "app", "pricing", "praise", "other"]


def norm(text):
    return re.sub(r"[\W_]+", " ", unicodedata.normalize("NFKC", text).lower()).strip()


def tokens(text, lang):
    text = norm(text)
    if lang == "en":
        return set(re.findall(r"[a-z0-9']+", text))
    s = text.replace(" ", "")
    return {s[i : i + 2] for i in range(len(s) - 1)} or {s}


def check(lang):
    errors, rows = [], []
    for n, line in enumerate((HERE / f"{lang}.jsonl").read_text(encoding="utf-8").splitlines(), 1):
        try:
            row = json.loads(line)
        except ValueError as exc:
            errors.append(f"{lang}:{n}: does not parse ({exc})")
            continue
        if set(row) != {"text", "label", "domain"}:
            errors.append(f"{lang}:{n}: keys {sorted(row)}")
        if row.get("label") not in LABELS or row.get("domain") not in DOMAINS:
            errors.append(f"{lang}:{n}: label/domain {row.get('label')}/{row.get('domain')}")
        if row.get("domain") == "praise" and row.get("label") != "positive":
            errors.append(f"{lang}:{n}: praise must be positive")
        if not str(row.get("text", "")).strip():
            errors.append(f"{lang}:{n}: empty text")
        rows.append(row)
    seen = {}
    for n, row in enumerate(rows, 1):
        key = norm(row["text"])
        if key in seen:
            errors.append(f"{lang}:{n}: duplicate of line {seen[key]}")
        seen.setdefault(key, n)
    sets = [tokens(r["text"], lang) for r in rows]
    for a, b in itertools.combinations(range(len(rows)), 2):
        union = sets[a] | sets[b]
        if len(union) > 2 and len(sets[a] & sets[b]) / len(union) >= 0.8:
            errors.append(f"{lang}:{a + 1}/{b + 1}: near-duplicates")
    return rows, errors


def table(rows):
    c = collections.Counter((r["label"], r["domain"]) for r in rows)
    out = ["| label | " + " | ".join(DOMAINS) + " | total |", "|---" * (len(DOMAINS) + 2) + "|"]
    for lab in LABELS:
        cells = [c[(lab, d)] for d in DOMAINS]
        out.append(f"| {lab} | " + " | ".join(map(str, cells)) + f" | {sum(cells)} |")
    cols = [sum(c[(lab, d)] for lab in LABELS) for d in DOMAINS]
    out.append("| total | " + " | ".join(map(str, cols)) + f" | {sum(cols)} |")
    return "\n".join(out)


def main():
    failed = False
    for lang in ("en", "zh"):
        rows, errors = check(lang)
        for e in errors:
            print(e, file=sys.stderr)
        failed |= bool(errors)
        print(f"**{lang}** ({len(rows)} lines)\n\n{table(rows)}\n")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
