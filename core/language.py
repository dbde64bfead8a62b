"""Languages: the BCP 47 primary subtag of a language field, and the language of a text.

Used on both sides: the build names each course's language (`normalise_language`, from the
provider's field or, when it names none, from the record's own text) and the recommender names a
goal's (`detect_text_language`), so results can follow the language the user writes in.

Detection reads, in order:
1. the script: Arabic, Cyrillic, Greek, Hebrew, Devanagari, Thai, Hangul, kana or Han letters name
   their language (py3langid chooses among the languages that share a script);
2. a language named in the title ("(en español)", "(Português)", a trailing "(PT)");
3. for Latin-script text, py3langid restricted to the catalogue's Latin-script languages, trusted for
   a long text at `DETECT_MIN_CONFIDENCE`, and for a short one (a title) only with evidence of its
   own: a function word of that language ("de", "para", "und") or a letter English does not use;
4. a Latin-script text of English words with no such evidence is English: a title like "Excel Skills
   for Business" is, and saying "unknown" there would hide it from every English goal.

py3langid (a maintained fork of langid.py: naive Bayes over byte n-grams, 97 languages) ships its
model inside its PyPI package, is deterministic and needs only numpy. lingua-language-detector was
measured for titles and left out: 16 s to load and 3.8 ms a title against 0.1 ms, with no fewer
mistakes on the Coursera 2024 titles.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Mapping
from typing import Any

from core.course_record import is_missing

__all__ = [
    "FUNCTION_WORDS",
    "LANGUAGE_NAMES",
    "detect_language",
    "detect_text_language",
    "language_name",
    "normalise_language",
]

# ISO 639-1 codes, plus the few languages that only have a three-letter code in BCP 47.
# fmt: off
_LANGUAGE_CODES = frozenset((
    "aa", "ab", "ae", "af", "ak", "am", "an", "ar", "as", "av", "ay", "az", "ba", "be", "bg", "bh", "bi", "bm",
    "bn", "bo", "br", "bs", "ca", "ce", "ch", "co", "cr", "cs", "cu", "cv", "cy", "da", "de", "dv", "dz", "ee",
    "el", "en", "eo", "es", "et", "eu", "fa", "ff", "fi", "fj", "fo", "fr", "fy", "ga", "gd", "gl", "gn", "gu",
    "gv", "ha", "he", "hi", "ho", "hr", "ht", "hu", "hy", "hz", "ia", "id", "ie", "ig", "ii", "ik", "io", "is",
    "it", "iu", "ja", "jv", "ka", "kg", "ki", "kj", "kk", "kl", "km", "kn", "ko", "kr", "ks", "ku", "kv", "kw",
    "ky", "la", "lb", "lg", "li", "ln", "lo", "lt", "lu", "lv", "mg", "mh", "mi", "mk", "ml", "mn", "mr", "ms",
    "mt", "my", "na", "nb", "nd", "ne", "ng", "nl", "nn", "no", "nr", "nv", "ny", "oc", "oj", "om", "or", "os",
    "pa", "pi", "pl", "ps", "pt", "qu", "rm", "rn", "ro", "ru", "rw", "sa", "sc", "sd", "se", "sg", "si", "sk",
    "sl", "sm", "sn", "so", "sq", "sr", "ss", "st", "su", "sv", "sw", "ta", "te", "tg", "th", "ti", "tk", "tl",
    "tn", "to", "tr", "ts", "tt", "tw", "ty", "ug", "uk", "ur", "uz", "ve", "vi", "vo", "wa", "wo", "xh", "yi",
    "yo", "za", "zh", "zu", "fil", "yue", "haw", "ast", "ceb",
))
# fmt: on
_DEPRECATED_CODES = {"iw": "he", "in": "id", "ji": "yi", "jw": "jv", "mo": "ro"}
_THREE_LETTER_CODES = {
    "eng": "en", "spa": "es", "fra": "fr", "fre": "fr", "deu": "de", "ger": "de", "ita": "it", "por": "pt",
    "rus": "ru", "zho": "zh", "chi": "zh", "cmn": "zh", "jpn": "ja", "kor": "ko", "ara": "ar", "hin": "hi",
    "tur": "tr", "pol": "pl", "nld": "nl", "dut": "nl", "swe": "sv", "ukr": "uk", "vie": "vi", "tha": "th",
    "ind": "id", "heb": "he", "ell": "el", "gre": "el", "fas": "fa", "per": "fa", "ces": "cs", "cze": "cs",
}  # fmt: skip
_LANGUAGE_NAMES = {
    "en": "english|inglés|ingles|anglais|englisch|inglese|inglês|английский|英语|英語|영어",
    "es": "spanish|castilian|español|espanol|castellano|espagnol|spanisch|spagnolo|espanhol|испанский|西班牙语",
    "fr": "french|français|francais|francés|frances|französisch|francese|francês|французский|法语",
    "de": "german|deutsch|alemán|aleman|allemand|tedesco|alemão|немецкий|德语",
    "it": "italian|italiano|italien|italienisch|итальянский",
    "pt": "portuguese|português|portugues|portugués|portugais|portugiesisch|portoghese|португальский|葡萄牙语",
    "zh": "chinese|mandarin|中文|汉语|漢語|普通话|简体中文|繁體中文|chinois|chino|chinesisch|китайский",
    "yue": "cantonese|粵語|粤语",
    "ja": "japanese|日本語|japonais|japonés|japanisch|японский",
    "ko": "korean|한국어|coréen|coreano|koreanisch|корейский",
    "ar": "arabic|العربية|عربي|arabe|árabe|arabisch|арабский",
    "ru": "russian|русский|russe|ruso|russisch",
    "hi": "hindi|हिन्दी|हिंदी",
    "bn": "bengali|bangla|বাংলা",
    "ur": "urdu|اردو",
    "fa": "persian|farsi|فارسی",
    "tr": "turkish|türkçe|turkce|turc|turco|türkisch",
    "pl": "polish|polski|polonais|polaco",
    "nl": "dutch|flemish|nederlands|néerlandais|neerlandés",
    "sv": "swedish|svenska",
    "no": "norwegian|norsk",
    "da": "danish|dansk",
    "fi": "finnish|suomi",
    "et": "estonian|eesti",
    "lv": "latvian|latviešu",
    "lt": "lithuanian|lietuvių",
    "cs": "czech|čeština|cestina",
    "sk": "slovak|slovenčina",
    "sl": "slovenian|slovene|slovenščina",
    "hr": "croatian|hrvatski",
    "sr": "serbian|српски|srpski",
    "bg": "bulgarian|български",
    "uk": "ukrainian|українська",
    "ro": "romanian|română|romana",
    "hu": "hungarian|magyar",
    "el": "greek|ελληνικά",
    "he": "hebrew|עברית",
    "th": "thai|ไทย",
    "vi": "vietnamese|tiếng việt",
    "id": "indonesian|bahasa indonesia",
    "ms": "malay|bahasa melayu",
    "fil": "filipino|tagalog",
    "sw": "swahili|kiswahili",
    "ta": "tamil|தமிழ்",
    "te": "telugu|తెలుగు",
    "mr": "marathi|मराठी",
    "ca": "catalan|català",
    "eu": "basque|euskara",
    "gl": "galician|galego",
    "kk": "kazakh|қазақ",
    "af": "afrikaans",
    "is": "icelandic|íslenska",
}
_NAME_TO_CODE = {name: code for code, names in _LANGUAGE_NAMES.items() for name in names.split("|")}
# Latin-script names must stand as words ("thai" is not in "thailand"); in other scripts names are
# searched as substrings, since "简体中文" has no word boundary before "中文".
_LATIN_NAME = re.compile(
    r"(?<![a-zà-ÿ])("
    + "|".join(sorted((n for n in _NAME_TO_CODE if n.isascii()), key=len, reverse=True))
    + r")(?![a-z])"
)
_OTHER_NAMES = tuple(sorted((n for n in _NAME_TO_CODE if not n.isascii()), key=len, reverse=True))
_LANGUAGE_TAG = re.compile(r"([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]{1,8})*")
DETECT_MIN_LETTERS = 20
DETECT_MIN_CONFIDENCE = 0.9
# A short Latin-script text is another language than English only with this confidence and a word
# or letter of its own; below SHORT_TEXT_LETTERS letters a text counts as short.
SHORT_MIN_CONFIDENCE = 0.3
SHORT_TEXT_LETTERS = 80
_DETECT_CHARS = 2_000

# The Latin-script languages a short text is told apart from English in: the catalogue's languages.
_LATIN_LANGUAGES = ("en", "es", "pt", "fr", "de", "it", "nl", "id", "tr", "pl", "vi", "ro", "sv", "ca")
# Words that occur in titles of one language and not as English words ("de" is Spanish, Portuguese,
# French and Dutch at once; py3langid chooses among them).
_FUNCTION_WORDS = {
    "es": "de del la las el los y para con en por una un al su sus como cómo qué que lo más",
    "pt": "de do da dos das e para com em no na nos nas uma um ao aos os seu sua como que mais",
    "fr": "de du des la le les et pour en un une au aux avec dans sur l d qu à",
    "de": "der die das und für mit von zu im ein eine den dem des zum zur auf",
    "it": "di del della dei il la le e per con un una nel nella gli lo",
    "nl": "de het een en voor met van in op",
    "id": "dan untuk dengan yang di ke dari dalam",
    "tr": "ve için ile bir",
    "pl": "i w dla z na do",
    "vi": "và cho của với",
    "ro": "și pentru cu de în",
    "sv": "och för med av på",
    "ca": "de la i per amb els les",
}
_FUNCTION_WORD_SETS = {code: frozenset(words.split()) for code, words in _FUNCTION_WORDS.items()}
# Every language's function words: what a goal's content words leave out whatever its language.
FUNCTION_WORDS = frozenset().union(*_FUNCTION_WORD_SETS.values())
_ENGLISH_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyz")
# A language code in parentheses at the end of a title: "Google Project Management (PT)".
_TITLE_CODE = re.compile(r"\((?P<code>[A-Za-z]{2})\)\s*$")
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")

# Unicode blocks whose letters name a language or a small set of them.
_SCRIPTS = (
    ("\u0600", "\u06ff", ("ar", "fa", "ur")),
    ("\u0750", "\u077f", ("ar", "fa", "ur")),
    ("\u0400", "\u04ff", ("ru", "uk", "bg", "sr", "kk")),
    ("\u0370", "\u03ff", ("el",)),
    ("\u0590", "\u05ff", ("he",)),
    ("\u0900", "\u097f", ("hi", "mr", "ne")),
    ("\u0980", "\u09ff", ("bn",)),
    ("\u0b80", "\u0bff", ("ta",)),
    ("\u0c00", "\u0c7f", ("te",)),
    ("\u0e00", "\u0e7f", ("th",)),
    ("\uac00", "\ud7af", ("ko",)),
    ("\u1100", "\u11ff", ("ko",)),
    ("\u3040", "\u30ff", ("ja",)),  # hiragana and katakana: Japanese even beside Han characters
    ("\u4e00", "\u9fff", ("zh", "ja")),
)


def _language_from_tag(text: str) -> str | None:
    match = _LANGUAGE_TAG.fullmatch(text)
    if not match:
        return None
    primary = match.group(1).casefold()
    primary = _DEPRECATED_CODES.get(primary, _THREE_LETTER_CODES.get(primary, primary))
    return primary if primary in _LANGUAGE_CODES else None


def _language_from_name(text: str) -> str | None:
    low = text.casefold()
    best: tuple[int, str] | None = None
    if match := _LATIN_NAME.search(low):
        best = (match.start(), _NAME_TO_CODE[match.group(1)])
    for name in _OTHER_NAMES:
        position = low.find(name)
        if position >= 0 and (best is None or position < best[0]):
            best = (position, _NAME_TO_CODE[name])
    return best[1] if best else None


def _language_from_value(value: Any, depth: int = 0) -> str | None:
    if depth > 3 or is_missing(value):
        return None
    if isinstance(value, Mapping):  # Udemy {"locale": "en_US", "title": "English (US)"}
        for key in ("locale", "code", "language", "lang", "simple_english_title", "title", "name"):
            if (code := _language_from_value(value.get(key), depth + 1)) is not None:
                return code
        return None
    if isinstance(value, list | tuple):
        for element in value[:20]:
            if (code := _language_from_value(element, depth + 1)) is not None:
                return code
        return None
    if isinstance(value, bytes | set):
        return None
    text = str(value)[:100].strip()
    if not text:
        return None
    for piece in re.split(r"[,;|/]", text):
        piece = piece.strip()
        if piece and (code := _language_from_tag(piece) or _language_from_name(piece)):
            return code
    return None


_IDENTIFIER_LOCK = threading.Lock()


def _identifier(languages: tuple[str, ...] | None = None) -> Any:
    # One load, even when a caller asks while `load_identifier_in_background` is loading it.
    with _IDENTIFIER_LOCK:
        return _load_identifier(languages)


def load_identifier_in_background() -> None:
    """Start loading the identifier that the goal's language will need, in a thread: most of its 0.4 s
    is LZMA decompression, which lets the thread that imports and runs the model go on meanwhile."""
    if not _load_identifier.cache_info().currsize:
        threading.Thread(target=_identifier, args=(_LATIN_LANGUAGES,), daemon=True, name="langid").start()


@functools.cache
def _load_identifier(languages: tuple[str, ...] | None) -> Any:
    # Imported here: the model takes ~0.7 s to load, and most items name their language.
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    if languages:
        identifier.set_languages(list(languages))
    return identifier


def _script_languages(sample: str) -> tuple[str, ...] | None:
    """The languages the text's script allows when most of its letters are in one non-Latin script."""
    counts: dict[tuple[str, ...], int] = {}
    letters = 0
    for ch in sample:
        if not ch.isalpha():
            continue
        letters += 1
        for low, high, languages in _SCRIPTS:
            if low <= ch <= high:
                counts[languages] = counts.get(languages, 0) + 1
                break
    if not counts:
        return None
    if counts.get(("ja",)):  # kana anywhere: Japanese, whatever Han characters surround it
        return ("ja",)
    languages, count = max(counts.items(), key=lambda kv: kv[1])
    # "Management Communication 管理沟通": a few foreign letters in an English title still name it.
    return languages if count >= 2 and (count >= 0.2 * letters or count >= 4) else None


def detect_language(text: Any) -> str | None:
    """The language of a text (a course's title and description, a goal), or None when that would be
    a guess: see the module's docstring for what is read."""
    if not isinstance(text, str):
        return None
    sample = " ".join(text[:_DETECT_CHARS].split())
    letters = sum(ch.isalpha() for ch in sample)
    if letters < 3:
        return None
    if (code := _title_marker(sample)) is not None:
        return code
    by_script = _script_languages(sample)
    if by_script is not None:
        if len(by_script) == 1:
            return by_script[0]
        return _identifier(by_script).classify(sample)[0]
    # A stray letter of another script ("6 σ Black Belt") does not make a Latin text unknown.
    latin = "".join(ch for ch in sample if not ch.isalpha() or _is_latin(ch))
    if sum(ch.isalpha() for ch in latin) < 0.9 * letters:
        return None
    return _latin_language(latin, letters)


def _title_marker(sample: str) -> str | None:
    """A language the title names of itself: "(en español)", "(Português)", "en Français", "日本語版",
    "... (PT)". Only a language's own name counts ("Spanish for Beginners" is an English course)."""
    for match in _NATIVE_NAME.finditer(sample.casefold()):
        return _NAME_TO_CODE[match.group("name")]
    for name in _OTHER_NAMES:
        if name in sample and _NAME_TO_CODE[name] != "en":
            return _NAME_TO_CODE[name]
    if (match := _TITLE_CODE.search(sample)) is not None:
        code = match.group("code").lower()
        if code in _LATIN_LANGUAGES and code != "en":
            return code
    return None


def _is_latin(ch: str) -> bool:
    return ch <= "\u024f" or "\u1e00" <= ch <= "\u1eff"


def _is_latin_text(name: str) -> bool:
    return all(_is_latin(ch) for ch in name)


# A Latin-script language's own name where a title names its language: "(Español)", "en Français",
# "em Português Brasileiro".
_NATIVE_NAMES = sorted(
    {n for code, names in _LANGUAGE_NAMES.items() if code != "en" for n in names.split("|")[1:] if _is_latin_text(n)},
    key=len,
    reverse=True,
)
_NATIVE_NAME = re.compile(
    r"(?:\(|\b(?:en|em|in|auf)\s+)(?P<name>" + "|".join(re.escape(n) for n in _NATIVE_NAMES) + r")(?![^\W\d_])"
)


def _latin_language(sample: str, letters: int) -> str | None:
    code, confidence = _identifier(_LATIN_LANGUAGES).classify(sample)
    if letters >= SHORT_TEXT_LETTERS:
        if confidence >= DETECT_MIN_CONFIDENCE:
            return code
        return None
    words = [w.casefold() for w in _WORD.findall(sample)]
    if code != "en" and confidence >= SHORT_MIN_CONFIDENCE:
        own_words = _FUNCTION_WORD_SETS.get(code, frozenset())
        own_letters = any(ch.isalpha() and ch.casefold() not in _ENGLISH_LETTERS for ch in sample)
        if own_letters or any(w in own_words for w in words):
            return code
    if letters < 4 or not words:
        return None
    # Any other language's function word without that language winning is a mixed or unsure text.
    if any(w in _FOREIGN_ONLY_WORDS for w in words) or any(
        ch.casefold() not in _ENGLISH_LETTERS for ch in sample if ch.isalpha()
    ):
        return None
    return "en"


# Function words of the other languages that are not English words too ("a", "in", "no" are).
_ENGLISH_WORDS_TOO = frozenset(
    [
        "a",
        "i",
        "in",
        "on",
        "no",
        "do",
        "to",
        "am",
        "an",
        "as",
        "be",
        "is",
        "it",
        "at",
        "me",
        "so",
        "he",
        "we",
        "us",
        "up",
        "or",
        "and",
        "for",
        "with",
        "e",
        "d",
        "l",
        "s",
        "w",
        "z",
        "per",
        "den",
        "die",
        "des",
        "con",
        "un",
        "com",
    ]
)
_FOREIGN_ONLY_WORDS = frozenset().union(*_FUNCTION_WORD_SETS.values()) - _ENGLISH_WORDS_TOO


def normalise_language(raw: Any, text: Any = None) -> str | None:
    """BCP 47 primary language subtag for a language field; detected from `text` when it names none.

    "English" → "en", "Español"/"Spanish" → "es", "日本語" → "ja", "en-US"/"en_us" → "en" (regions
    dropped: sources disagree on them for one language), ["en", "fr"] → "en" (the first), Udemy's
    {"locale": "en_US"} → "en", "eng" → "en". When `raw` is empty or unrecognised, the language is
    detected from `text` (see detect_language).
    """
    code = _language_from_value(raw)
    if code is None and text is not None:
        code = detect_language(text)
    return code


def detect_text_language(text: str) -> str | None:
    """A user's text (a goal): its language, or None when it is too short to tell."""
    return detect_language(text)


# Each language's own English name, for display ("es" → "Spanish"); the first name of _LANGUAGE_NAMES.
LANGUAGE_NAMES = {code: names.split("|")[0].capitalize() for code, names in _LANGUAGE_NAMES.items()}


def language_name(code: str | None) -> str:
    """ "es" → "Spanish"; an unknown code is shown as it is, None as "unknown"."""
    if not code:
        return "unknown"
    return LANGUAGE_NAMES.get(code, code)
