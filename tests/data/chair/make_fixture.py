#!/usr/bin/env python3
"""Scores the CHAIR fixture with the reference script and writes what seva must reproduce.

    python make_fixture.py --chair-py PATH/chair.py [--wordnet-dir /usr/share/wordnet] [--out DIR]

PATH/chair.py is the CHAIR script most papers use: OPERA's (github.com/shikiw/OPERA, chair.py, also
used by LURE), which is Maxlinn's standalone chair.py with pattern's singularize replaced by NLTK's
pos_tag and WordNet lemmatizer. It is imported as it is, never copied here. Two NLTK models it calls
cannot be installed offline (punkt for sentence splitting, averaged_perceptron_tagger_eng for
pos_tag); this script replaces exactly those two calls with the documented stand-in rules below,
which seva implements the same way:

  nltk.word_tokenize -> split_sentences() (a sentence ends after '.', '!' or '?', possibly followed
                        by closing quotes/brackets, when whitespace follows), then NLTK's own
                        NLTKWordTokenizer on each sentence (word_tokenize(s, preserve_line=True)).
  nltk.pos_tag       -> pos_tag_standin(): 'VBG' (lemmatized as a verb) for a token of at least 5
                        characters ending in "ing" or "ed" whose previous token is not a determiner
                        or possessive (DETERMINERS); 'NN' (a noun) for every other token.

Everything else is real: NLTK's tokenizer rules, NLTK's WordNetLemmatizer over WordNet 3.0 (the
Debian files: wordnet-base, plus wordnet-sense-index because NLTK opens index.sense when it
loads WordNet; copied into a temporary NLTK data folder), and chair.py's own synonym table, double words, scoring and annotation reading.
Besides those two, only plumbing is patched: nltk.download (no network; WordNet is read from
--wordnet-dir) and the annotation folder (chair.py reads {instances,captions}_{val,train}2014.json:
the fixture's val2014 files are linked in and empty train2014 files, with the same categories, are
written next to them, so that train adds nothing).

Run with (the versions recorded in expected.json):
  Python 3.11.7, NLTK 3.10.4 (its patterns run on the `regex` module 2026.11.19; the contraction
  rules on the standard `re`), WordNet 3.0 (Debian wordnet-base / wordnet-sense-index 1:3.0-37),
  chair.py of OPERA at commit 6ebb17c825d53d6f351b1bce4442780ceeacb6c6.

Writes into DIR (default: this folder):
  expected.json  the reference's overall metrics, per-answer words and the ground-truth objects
  lemmas.tsv     word, then NLTK's lemmatize(word, pos) for pos n, v, a, r (tab-separated)
  tokenize.json  strings with NLTKWordTokenizer().tokenize(s) and the stand-in word_tokenize(s.lower())
"""
import argparse
import importlib.util
import json
import os
import random
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

# WordNet 3.0's lexnames file (dict/lexnames of the Princeton release), which Debian does not
# ship; NLTK reads it when it opens WordNet (only synset lexnames use it, not the lemmatizer).
LEXNAMES = ["adj.all", "adj.pert", "adv.all", "noun.Tops", "noun.act", "noun.animal", "noun.artifact",
            "noun.attribute", "noun.body", "noun.cognition", "noun.communication", "noun.event",
            "noun.feeling", "noun.food", "noun.group", "noun.location", "noun.motive", "noun.object",
            "noun.person", "noun.phenomenon", "noun.plant", "noun.possession", "noun.process",
            "noun.quantity", "noun.relation", "noun.shape", "noun.state", "noun.substance", "noun.time",
            "verb.body", "verb.change", "verb.cognition", "verb.communication", "verb.competition",
            "verb.consumption", "verb.contact", "verb.creation", "verb.emotion", "verb.motion",
            "verb.perception", "verb.possession", "verb.social", "verb.stative", "verb.weather", "adj.ppl"]

# ---- the two stand-ins (seva: src/text/word_tokenize.cpp, src/eval/chair.cpp) ----

SENTENCE_END = ".!?"
CLOSERS = "\"')]}»”’"
DETERMINERS = {"a", "an", "the", "this", "that", "these", "those", "my", "your", "his", "her", "its", "our",
               "their"}


def split_sentences(text):
    """Stands in for punkt: cut after [.!?] (and closing quotes/brackets) followed by whitespace."""
    pieces, start, i, n = [], 0, 0, len(text)
    while i < n:
        if text[i] in SENTENCE_END:
            j = i + 1
            while j < n and text[j] in CLOSERS:
                j += 1
            if j < n and text[j].isspace():
                pieces.append(text[start:j])
                start = i = j
                continue
        i += 1
    pieces.append(text[start:])
    return [p.strip() for p in pieces if p.strip()]


def make_word_tokenize(nltk_word_tokenize):
    def word_tokenize(text, language="english", preserve_line=False):
        return [tok for sentence in split_sentences(text) for tok in nltk_word_tokenize(sentence, preserve_line=True)]
    return word_tokenize


def pos_tag_standin(tokens, tagset=None, lang="eng"):
    """Stands in for the perceptron tagger: VBG (a verb) or NN (a noun)."""
    tags = []
    for k, tok in enumerate(tokens):
        prev = tokens[k - 1] if k > 0 else None
        verb = len(tok) >= 5 and (tok.endswith("ing") or tok.endswith("ed")) and prev not in DETERMINERS
        tags.append((tok, "VBG" if verb else "NN"))
    return tags


# ---- set-up ----

def nltk_data_dir(wordnet_dir, tmp):
    """An NLTK data folder whose corpora/wordnet holds copies of the files of wordnet_dir (NLTK refuses
    symbolic links that leave its data folder)."""
    root = os.path.join(tmp, "nltk_data")
    wn = os.path.join(root, "corpora", "wordnet")
    os.makedirs(wn)
    for name in os.listdir(wordnet_dir):
        path = os.path.join(wordnet_dir, name)
        if os.path.isfile(path):
            shutil.copyfile(path, os.path.join(wn, name))
    if not os.path.exists(os.path.join(wn, "index.sense")):
        sys.exit("make_fixture.py: %s has no index.sense (Debian: apt-get install wordnet-sense-index)" % wordnet_dir)
    if not os.path.exists(os.path.join(wn, "lexnames")):
        with open(os.path.join(wn, "lexnames"), "w") as f:
            for i, name in enumerate(LEXNAMES):
                f.write("%02d\t%s\t%d\n" % (i, name, {"adj": 3, "adv": 4, "noun": 1, "verb": 2}[name.split(".")[0]]))
    return root


def annotation_dir(fixture_dir, tmp):
    """chair.py's annotation folder: the fixture's val2014 files and empty train2014 files."""
    ann = os.path.join(tmp, "annotations")
    os.makedirs(ann)
    for kind in ("instances", "captions"):
        val = os.path.join(fixture_dir, "%s_val2014.json" % kind)
        os.symlink(val, os.path.join(ann, "%s_val2014.json" % kind))
        with open(val) as f:
            data = json.load(f)
        for key in ("images", "annotations"):
            data[key] = []
        with open(os.path.join(ann, "%s_train2014.json" % kind), "w") as f:
            json.dump(data, f)
    return ann


def load_chair(path):
    spec = importlib.util.spec_from_file_location("reference_chair", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---- the fixtures ----

TOKENIZER_STRINGS = [
    "Good muffins cost $3.88\nin New York.  Please buy me\ntwo of them.\nThanks.",
    "don't", "Don't", "I can't go.", "won't", "shouldn't've", "they'll", "we're", "I'm", "he'd", "you've",
    "it's", "It'S", "DON'T", "WE'LL", "THEY'RE here", "I'D go", "you'VE", "can't've", "I'd've", "y'all", "ma'am",
    "O'Neill", "o'clock", "rock'n'roll", "rock 'n' roll", "n't", "don't!", "isn't.", "it'", "dogs' bones",
    "the dog's bone", "James' car", "'tis the season", "'Twas night", "'twas", " 'tis", "'TIS", "'tiſ", "'em",
    "'90s", "'reason'", "'re-entry'", "'n'", "'ll", " 'll", "'s", "'sup", "'nt", "'d've", "'1990", "'_x",
    "'hello", "x'hello", "'élan", "'ſ x", "'Sx", "'S x",
    "\"Hello,\" he said.", "''Quoted'' text", "``tex quotes''", "He said \"no\".", "(\"paren quote\")",
    "[''bracket'']", "{\"brace\"}", "<\"angle\">", "'single quoted'", "a'' b", "a' b", "a '' b", "x ' y",
    "\"", "''", "``", "`", "```", "'''", "\"\"\"", "''''", "a\"b\"c", "\"start", "end\"",
    "“Hello,” she said.", "‘single’ curly", "„German“ quotes", "«French» quotes", "it’s a dog’s life",
    "end’ ", "’twas", "a“b”c", "x‘y’z",
    "Wait... what?", "so.. yes", "end...", "a . . . b", "x....", "…unicode ellipsis…", ".", "..", "...",
    "a.", "A.", "3.", "no. 5", "v1.2.3", "The end.", "The end.)", "The end.\"", "The end.' ", "(The end.)",
    "End. ", "End.  \n", "End.\t", "End.\n", "end.”", "end.’ ", "end.»", "end. )", "end.) \t", "end.\t)",
    "He said \"stop.\"", "x.y.", "..a.", "a..", "a.b. ", "Mr. Smith", "e.g. this", "i.e., that", "U.S.A.",
    "3,000 people", "3.5 miles", "10:30 am", "1,2,3", "a,b", "a:b", "x: y", "$5.00", "50% off", "#1 & #2",
    "email@example.com", "http://www.example.com/path?q=1&r=2", "www.google.com.", "1,٣", "1,²", "a,", "a:",
    "a, ", "a,\n", "x,,y", "x,:y", ",,", ", 1", ",1", ":1", "x, \n", "::",
    "well--known", "a---b", "en–dash", "em—dash", "fig‒dash", "bar―x", "-hyphen-", "t-shirt", "----",
    "(a)", "[b]", "{c}", "<d>", "f(x)=y", "a<b>c",
    "a;b", "a@b", "a#b", "a$b", "a%b", "a&b", "a*b", "a!b", "a?b", "what?!", "yes!!!", "???", "**bold**",
    "cannot", "Cannot", "CANNOT", "gimme", "gonna", "gotta", "lemme", "more'n", "wanna go", "wanna", "wanna.",
    "d'ye", "whaddya", "whatcha", "Gonna", "gonnabe", "xgonna", "scannot", "cannot.", "gımme", "gİmme",
    "_cannot", "cannot_", "ícannot", "cannoté", "wanna\u001cgo", "wanna\u00a0go", "more'nx", "'tis'", "'twasn't",
    "café au lait", "naïve résumé", "crème brûlée", "日本語のテキスト。", "emoji 🐶 dog", "İstanbul",
    "ΟΔΟΣ ΟΔΟΣ.", "Straße", "ﬁsh", "cafe\u0301's menu", "x\u00a0y", "a\u2003b", "a\u001cb", "a\u200bb",
    "tab\there", "line\r\nbreak", "a\u2028b", "a\u0085b", "Ǆemal", "ΣΑΣ Σ",
    "A dog. A cat! A bird? Done", "(Really.) Yes.", "Dr. Who", "end.\nnext", "wow!! ok", "Really?! ok",
    ". leading period", "trailing space. ", "“Quoted.” Next", "’single.’ Next", "He said \"stop.\" Then left.",
    "a.\u00a0b", "a.\u001cb", "x.) y", "1. A dog\n2. A cat",
    "The image shows:\n\n1. A dog.\n2. A cat.\n- A bird\n* A fish",
    "", " ", "\n\n", "a", ",", "'", "Hello World", "HELLO, WORLD!",
]


def lemma_words(chair, wordnet_dir):
    rng = random.Random(0)
    words = set()
    table_words = set()
    for line in chair.synonyms_txt.splitlines():
        for entry in line.strip().split(", "):
            table_words.update(entry.split())
    for w in table_words:
        words.add(w)
        for form in (w + "s", w + "es", w + "ing", w + "ed", w + "er", w + "est", w + "'s"):
            words.add(form)
        if w.endswith("y"):
            words.add(w[:-1] + "ies")
        if w.endswith("e"):
            words.update((w[:-1] + "ing", w + "d"))
    words.update("geese mice people children oxen knives glasses buses skis species series news us was has does "
                 "ties axes bases less teeth feet men women leaves wolves boxes churches dishes ladies flies better "
                 "best worse worst biggest hot_dog hot_dogs seated seating skiing skier parking dining cooking "
                 "surfing biking skateboarding snowboarding sitting lying seat seats scissors iPhone Dogs DOGS café "
                 "naïve 3,000 3.5 's 'll n't , . `` '' ( ) - -- ... ! ? ; : aardwolves abaci hardrock catss u "
                 "anythinggoeszxcv wine_glass glas wine glas. swimming running ran went gone eaten".split())
    for name in ("noun.exc", "verb.exc", "adj.exc", "adv.exc"):
        with open(os.path.join(wordnet_dir, name)) as f:
            keys = sorted(line.split()[0] for line in f if line.strip())
        words.update(keys if len(keys) < 300 else rng.sample(keys, 300))
    for name in ("index.noun", "index.verb", "index.adj", "index.adv"):
        with open(os.path.join(wordnet_dir, name)) as f:
            lemmas = sorted(line.split()[0] for line in f if not line.startswith(" "))
        for w in rng.sample(lemmas, 100):
            words.update((w, w + "s", w + "ing", w + "ed", w + "er", w + "est", w + "es"))
    return sorted(words)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--chair-py", required=True, help="the reference chair.py (OPERA's)")
    ap.add_argument("--wordnet-dir", default="/usr/share/wordnet")
    ap.add_argument("--out", default=HERE)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="chair_fixture_")
    os.environ["NLTK_DATA"] = nltk_data_dir(args.wordnet_dir, tmp)

    import nltk
    import regex
    from nltk.tokenize import NLTKWordTokenizer

    nltk.data.path.insert(0, os.environ["NLTK_DATA"])
    nltk.download = lambda *a, **k: True  # plumbing: no network; WordNet is already in NLTK_DATA
    nltk.word_tokenize = make_word_tokenize(nltk.word_tokenize)  # stand-in 1
    nltk.pos_tag = pos_tag_standin  # stand-in 2
    chair = load_chair(args.chair_py)
    from nltk.corpus import wordnet
    from nltk.stem import WordNetLemmatizer

    evaluator = chair.CHAIR(annotation_dir(HERE, tmp))
    ground_truth = {str(k): sorted(v) for k, v in sorted(evaluator.imid_to_objects.items())}
    answers = os.path.join(HERE, "answers.jsonl")
    out = evaluator.compute_chair(answers, "question_id", "text")
    rows = []
    for s in out["sentences"]:
        words, nodes, _, raw = evaluator.caption_to_words(s["caption"])
        assert nodes == s["mscoco_generated_words"] and raw == s["words"]
        rows.append({"image_id": s["image_id"], "text": s["caption"], "mentioned": words, "objects": nodes,
                     "hallucinated": [list(p) for p in s["mscoco_hallucinated_words"]], "raw_words": raw,
                     "ground_truth": sorted(s["mscoco_gt_words"]), "metrics": s["metrics"]})
    caption_rows = chair.load_generated_captions(os.path.join(HERE, "answers_caption.json"), "image_id", "caption")
    expected = {
        "versions": {"python": sys.version.split()[0], "nltk": nltk.__version__, "regex": regex.__version__,
                     "wordnet": wordnet.get_version(), "chair_py": os.path.basename(args.chair_py)},
        "overall": out["overall_metrics"],
        "answers": rows,
        "ground_truth": ground_truth,
        "answers_caption_json": {"image_ids": caption_rows[1], "captions": caption_rows[0]},
        "synonyms_txt": chair.synonyms_txt,
        "inverse_synonym_dict": evaluator.inverse_synonym_dict,
        "double_word_dict": evaluator.double_word_dict,
    }
    with open(os.path.join(args.out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, ensure_ascii=False)
        f.write("\n")

    wnl = WordNetLemmatizer()
    with open(os.path.join(args.out, "lemmas.tsv"), "w") as f:
        f.write("# word\tlemmatize(word, 'n')\t'v'\t'a'\t'r' (NLTK %s, WordNet %s)\n" % (nltk.__version__, wordnet.get_version()))
        for w in lemma_words(chair, args.wordnet_dir):
            f.write("\t".join([w] + [wnl.lemmatize(w, pos) for pos in "nvar"]) + "\n")

    strings = list(TOKENIZER_STRINGS)
    with open(answers) as f:
        strings += [json.loads(line)["text"] for line in f]
    with open(os.path.join(HERE, "captions_val2014.json")) as f:
        strings += [a["caption"] for a in json.load(f)["annotations"]]
    tok = NLTKWordTokenizer()
    rows = [{"text": s, "nltk": tok.tokenize(s), "chair": nltk.word_tokenize(s.lower())} for s in strings]
    with open(os.path.join(args.out, "tokenize.json"), "w") as f:
        json.dump(rows, f, indent=0, ensure_ascii=False)
        f.write("\n")
    print("wrote expected.json (%d answers), lemmas.tsv, tokenize.json (%d strings) into %s"
          % (len(out["sentences"]), len(rows), args.out))


if __name__ == "__main__":
    main()
