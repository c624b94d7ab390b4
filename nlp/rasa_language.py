"""What the English intent model cannot read: emoji-only reactions, bare numbers and other
languages.

They would otherwise fall back to `nlu_fallback` (two fallbacks in a row hand the customer to
a person) or be read as whatever their characters resemble (a number as a rating). Place
these after the FallbackClassifier and before the FrustrationDetector (which still overrides
them when a message is frustrated: strongly, or mildly in another language).
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR,
    INTENT,
    INTENT_NAME_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from nlp.language import (
    CONFIDENT_AT,
    Detection,
    detect_language,
    gibberish,
    language_detector,
    wordlist,
)
from nlp.rasa_sentiment import RuleComponent, override_intent
from nlp.reactions import bare_number, only_hesitation, punctuation_only, reaction
from nlp.sentiment import asks_for_person, cue_language, speaks_of_frustration_or_a_person

LANGUAGE = "language"
"""Parse-data key with the detector's guess, and the entity that carries a foreign language."""


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class ReactionClassifier(RuleComponent):
    """An emoji-only message becomes `frustrated`, `thanks`, `greet` or `acknowledge`: never a
    misunderstanding, a rating or card digits, whatever the intent model made of it.

    A bare number becomes `number_intent` (`inform`: a number given): what it is for is the
    question's to say that asked for it (a form's slot mapping), and with no such question
    the customer is asked what it is for (data/rules/general.yml), never thanked for a rating.

    Punctuation alone ("?", "...") becomes `unread_intent` (`nlu_fallback`: please rephrase),
    whatever the intent model made of it ("?" as `affirm`). A hesitation or filler alone
    ("wait", "hmm") becomes `acknowledge`: never a yes that blocks a card or a stop that ends
    a report (nlp.reactions.only_hesitation).
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "intents": {
                "frustrated": "frustrated",
                "thanks": "thanks",
                "greet": "greet",
                "acknowledge": "acknowledge",
            },
            "number_intent": "inform",
            "unread_intent": "nlu_fallback",
        }

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.intents = {**self.get_default_config()["intents"], **self.config["intents"]}
        self.number_intent = self.config["number_intent"]
        self.unread_intent = self.config["unread_intent"]

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            said = reaction(text)
            if said is not None:
                override_intent(message, self.intents[said], 1.0)
            elif self.number_intent and bare_number(text):
                override_intent(message, str(self.number_intent), 1.0)
            elif self.unread_intent and punctuation_only(text):
                override_intent(message, str(self.unread_intent), 1.0)
            elif only_hesitation(text):
                override_intent(message, self.intents["acknowledge"], 1.0)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class OtherLanguageClassifier(RuleComponent):
    """A message in another language becomes `other_language`, with a `language` entity; one
    that asks for a person (nlp.sentiment.asks_for_person) becomes `person_intent` with it, so
    it is handed over as in English, and the handoff is worded in that language where
    domain.yml has it.

    A non-Latin script decides on its own; a Latin-script guess counts only for a message the
    classifier could not read (or itself took for another language: data/nlu/general.yml has
    a few examples), because short English is sometimes guessed as Spanish or Italian and a
    message the English model understood is English enough to answer. Unless the message
    has that language's words of frustration or for a person (nlp.sentiment.FOREIGN_CUES):
    the English model cannot have understood those, whatever it read ("esto es ridículo,
    nadie me ayuda" as out of scope), and the reply to them must be in that language.

    Those words also name the language when langid is unsure ("estoy harto de este banco",
    "c'est nul, ça ne marche jamais" are below its confidence): the `language` entity must
    still be set, or the frustration is answered in English. Latin-script gibberish
    ("qwpeoir zxmcnv", nlp.language.gibberish) is no language: whatever the classifier or
    langid made of it, it becomes `unread_intent` (please rephrase; twice, a person).
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "intent": "other_language",
            "unread_intent": "nlu_fallback",
            "person_intent": "ask_for_human",
        }

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.intent = str(self.config["intent"])
        self.unread_intent = str(self.config["unread_intent"])
        self.person_intent = self.config["person_intent"]
        language_detector()  # decode the model now, not on the first message
        wordlist()  # and read the wordlists `gibberish` checks (a few seconds)

    @staticmethod
    def detect(text: str) -> Detection:
        """langid's reading, or, when it is unsure of a Latin-script message, the language
        whose words of frustration or for a person the message has."""
        detected = detect_language(text)
        if detected.foreign or detected.probability >= CONFIDENT_AT:
            return detected
        language = cue_language(text)
        if language is None:
            return detected
        return Detection(language, CONFIDENT_AT, latin=True)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not text:
                continue
            detected = self.detect(text)
            message.set(LANGUAGE, detected.language, add_to_output=True)
            current = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
            unread = current in (self.unread_intent, self.intent)
            if detected.latin and (unread or detected.foreign) and gibberish(text):
                if current != self.unread_intent:
                    override_intent(message, self.unread_intent, 1.0)
                continue
            readable = not unread and not speaks_of_frustration_or_a_person(text, detected.language)
            if not detected.foreign or (detected.latin and readable):
                continue
            wants_person = bool(self.person_intent) and asks_for_person(text)
            intent = str(self.person_intent) if wants_person else self.intent
            override_intent(message, intent, detected.probability)
            entity = {
                ENTITY_ATTRIBUTE_TYPE: LANGUAGE,
                ENTITY_ATTRIBUTE_VALUE: detected.language,
                ENTITY_ATTRIBUTE_START: 0,
                ENTITY_ATTRIBUTE_END: len(text),
                EXTRACTOR: type(self).__name__,
            }
            message.set(ENTITIES, [*(message.get(ENTITIES) or []), entity], add_to_output=True)
        return messages
