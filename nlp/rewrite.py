"""Rewriting an extracted sentence for the agent: leading fillers dropped, third person.

"Well, yes, I lost my card" said by the customer becomes "the customer lost their card": the
summary quotes the conversation, and this makes it say who said what. Works on spaCy tokens
without a tagger (the shared lookup pipeline in `nlp.text`).
"""

from __future__ import annotations

from spacy.lang.en.stop_words import STOP_WORDS
from spacy.tokens import Token

from nlp.text import word_set

# Openers dropped from the start of an extracted sentence ("Well, yes, I think ..." -> "I think").
_OPENERS = word_set(
    "yes no well oh ok okay hey hi hello um uh ah so alright wow yeah yep nope and but sorry "
    "excuse pardon thanks en mm gee oops hmm er"
)
# Dropped only before punctuation: "Good, ..." is an opener, "Good idea" is not.
_OPENERS_BEFORE_PUNCT = word_set(
    "good great fine right really look listen sure exactly certainly indeed please boy"
)
_NOT_OPENER_AFTER_NO = word_set("one problem matter way doubt idea longer more")
_OPENER_PAIRS = frozenset(
    {
        ("excuse", "me"),
        ("thank", "you"),
        ("of", "course"),
        ("good", "morning"),
        ("good", "afternoon"),
        ("good", "evening"),
    }
)

_FIRST_PERSON = {"i", "me", "myself"}
_FIRST_POSSESSIVE = {"my", "mine"}
_SECOND_PERSON = {"you", "yourself", "yourselves"}
_SECOND_POSSESSIVE = {"your", "yours"}
_PLURAL_PERSON = {"we", "us", "ourselves"}
# What a customer's "your" means when they write to the bot: the bot owns no rates or app.
_BUSINESS = "the company"
# ...except what the bot itself says and offers: "your question", "your answers".
_BOTS_OWN = word_set(
    "question questions answer answers reply replies response responses message messages "
    "menu menus option options button buttons suggestion suggestions name link links"
)
# After an auxiliary, "I" or "you" is an inverted subject ("can I have", "do you know"), and
# after a preposition or a verb "you" is an object: no verb agreement follows either.
_AUXILIARIES = word_set(
    "do does did can could will would shall should may might must have has had are were am is "
    "was 'd 'll"
)
_BEFORE_OBJECT = _AUXILIARIES | word_set(
    "to for with at tell ask give thank let see help send call meet show told asked"
)
_AGREEMENT = {
    "am": "is",
    "'m": "is",
    "are": "is",
    "'re": "is",
    "have": "has",
    "'ve": "has",
    "do": "does",
    "were": "was",
    "'ll": "will",
    "'d": "would",
}
# Verbs that spaCy lists as stop words.
_STOP_VERBS = word_set("become call get give go keep make move put say see seem show take")
_ADVERBS = word_set(
    "just really also still never always only already actually even usually often "
    "probably certainly definitely sometimes"
)


def without_openers(tokens: list[Token]) -> list[Token]:
    """Drop leading interjections, thanks and greetings, and the punctuation after them."""
    i = 0
    while i < len(tokens):
        word = tokens[i].text.lower()
        following = tokens[i + 1] if i + 1 < len(tokens) else None
        next_word = following.text.lower() if following is not None else ""
        if (word, next_word) in _OPENER_PAIRS:
            i += 2
        elif (
            (word in _OPENERS and not (word == "no" and next_word in _NOT_OPENER_AFTER_NO))
            or (word in _OPENERS_BEFORE_PUNCT and (following is None or following.is_punct))
            or (tokens[i].is_punct and i > 0)
        ):
            i += 1
        else:
            break
    rest = tokens[i:]
    return rest if any(not t.is_punct for t in rest) else []


_JOINING = word_set("and or")
_REQUEST_MODALS = word_set("can could may would")
_PLEASE = word_set("please pls plz")


def _polite_request(tokens: list[Token], speaker: str, addressee: str) -> str | None:
    """A polite request as a plain statement: "Can I speak to an agent please?" becomes "the
    customer asks to speak to an agent".

    Rewriting only the pronoun would give "can the customer speak to an agent please", which
    reads as a question about the customer rather than their request. A question to the bot
    ("can you tell me ...") stays a question: it is reported as asked.
    """
    words = [t for t in tokens if t.text.lower() not in _PLEASE]
    if len(words) < 3 or words[0].text.lower() not in _REQUEST_MODALS:
        return None
    if words[1].text.lower() != "i":
        return None
    rest = words[2:]
    while rest and rest[-1].is_punct:
        rest = rest[:-1]
    if not rest:
        return None
    return f"{speaker} asks to {third_person(rest, speaker, addressee, support=True)}"


def third_person(tokens: list[Token], speaker: str, addressee: str, support: bool) -> str:
    """Replace first and second person with the speakers' labels and fix the verb after them.

    In a support thread "my" becomes "their" (the customer's own); in a two-party dialogue the
    tag is repeated ("#Person2#'s"), as DialogSum's references do, and "we" names both. In a
    support thread a polite request ("can I ...") becomes a statement of what the speaker asks.
    """
    request = _polite_request(tokens, speaker, addressee) if support else None
    if request is not None:
        return request
    words: list[list[str]] = []
    subject = False
    # Whether the clause so far has a rewritten "I"/"you" subject: a verb joined to it by "and"
    # agrees too ("I moved and need" -> "the customer moved and needs").
    clause = False
    addressee_is_subject = False
    for k, token in enumerate(tokens):
        low = token.text.lower()
        previous = tokens[k - 1].text.lower() if k else ""
        space = token.whitespace_
        clause = clause and not token.is_punct
        if low in _FIRST_PERSON:
            words.append([speaker, space])
            subject = low == "i" and previous not in _AUXILIARIES
            clause = clause or subject
            addressee_is_subject = addressee_is_subject and not subject
        elif low in _FIRST_POSSESSIVE:
            words.append(["their" if support else f"{speaker}'s", space])
            subject = False
        elif addressee and low in _SECOND_PERSON:
            words.append([addressee, space])
            subject = low == "you" and previous not in _BEFORE_OBJECT
            clause = clause or subject
            addressee_is_subject = addressee_is_subject or subject
        elif addressee and low in _SECOND_POSSESSIVE:
            # "you can change your address": the possessive is the subject's own, as with "my".
            own = support and clause and addressee_is_subject
            following = tokens[k + 1].text.lower() if k + 1 < len(tokens) else ""
            business = speaker == "the customer" and addressee == "the bot"
            owner = _BUSINESS if support and business and following not in _BOTS_OWN else addressee
            words.append(["their" if own else f"{owner}'s", space])
            subject = False
        elif addressee and not support and low in _PLURAL_PERSON:
            words.append([f"{speaker} and {addressee}", space])
            subject = False
        elif subject and low in _AGREEMENT:
            if low.startswith("'"):
                words[-1][1] = " "
            words.append([_AGREEMENT[low], space])
            subject = False
        elif subject and low in _ADVERBS:
            words.append([token.text, space])
        elif subject and _is_base_verb(token):
            words.append([_third_person_singular(low), space])
            subject = False
        elif clause and low in _JOINING:
            words.append([token.text, space])
            subject = True
        else:
            words.append([token.text, space])
            subject = False
    return "".join(word + space for word, space in words).strip()


def _is_base_verb(token: Token) -> bool:
    """A guess without a tagger: a lower-case word that is its own lemma right after a subject."""
    text = token.text
    return (
        text.isalpha()
        and text.islower()
        and token.lemma_ == text
        and (text not in STOP_WORDS or text in _STOP_VERBS)
        and not text.endswith("ly")
    )


def _third_person_singular(verb: str) -> str:
    if verb == "have":
        return "has"
    if verb.endswith(("s", "sh", "ch", "x", "z", "o")):
        return verb + "es"
    if verb.endswith("y") and len(verb) > 1 and verb[-2] not in "aeiou":
        return verb[:-1] + "ies"
    return verb + "s"
