"""Frustration cues in the languages other than English that the assistant answers in.

Data only: one `Cues` of regexes per ISO 639-1 code, read by nlp.sentiment, where the weights
and the matching live.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Cues:
    """One language's frustration cues, as regexes; each kind weighs what its English one does."""

    exasperation: str
    """Words of exasperation or strong negativity ("ridículo", "harto"): each different one
    counts, as the English ones do."""
    mild: str
    """Nobody, never, again, still."""
    repeat: str
    """Having asked before, the n-th time, waiting for days."""
    leaving: str
    """Closing the account, another bank, a complaint, a lawyer."""
    person: str
    """A person, a human, an agent, someone from the bank."""
    request: str
    """Wanting, talking, being put through: with a `person` word, a request for a person.
    Empty where the person word alone says it (Chinese 人工, "a human operator")."""
    polite: str
    """Please and would-like: a polite request for a person is a preference, not frustration."""


FOREIGN_CUES: dict[str, Cues] = {
    "es": Cues(
        exasperation=r"\b(?:ridícul[oa]s?|inaceptable|inútil(?:es)?|vergüenza|vergonzos[oa]"
        r"|hart[oa]s?|absurd[oa]|indignante|indignad[oa]|pésim[oa]"
        r"|una broma|tomadura de pelo|un chiste|basta ya|estafa|furios[oa]|enfadad[oa]"
        r"|cabread[oa]|una mierda|qué asco|desastre|incompetentes?|(?:el|la|lo) peor)\b",
        mild=r"\b(?:nadie|nunca|otra vez|de nuevo|todavía|aún no)\b",
        repeat=r"\b(?:ya (?:te |lo |se lo |os )?(?:dije|he dicho|pregunté|he preguntado"
        r"|expliqué|escribí)|(?:segunda|tercera|cuarta|quinta) vez|cuántas veces"
        r"|sigo esperando|llevo (?:días|semanas|horas))\b",
        leaving=r"\b(?:cerrar (?:mi|la) cuenta|otro banco|cambiarme de banco|queja"
        r"|reclamación|denunciar|abogado)\b",
        person=r"\b(?:persona|humano|agente|asesor|operador|alguien|empleado|gestor)\b",
        request=r"\b(?:habl\w*|comunic\w*|pás\w*|pasa|pasar|contactar|quiero|necesito"
        r"|ponme|atienda)\b",
        polite=r"\b(?:por favor|podría|quisiera|me gustaría)\b",
    ),
    "fr": Cues(
        exasperation=r"\b(?:ridicule|inacceptable|inutile|nul(?:le)?|honte(?:ux)?|absurde"
        r"|scandal\w*|marre|ras le bol|n'en peux plus|pathétique|lamentable|insupportable"
        r"|furieu(?:x|se)|énervé\w*|agacé\w*|catastroph\w*|n'importe quoi"
        r"|une blague|incompétent\w*|(?:le|la) pire)\b",
        mild=r"\b(?:jamais|encore|toujours pas|de nouveau)\b",
        repeat=r"\b(?:déjà (?:dit|demandé|expliqué|écrit)|(?:deuxième|troisième|quatrième)"
        r" fois|combien de fois|j'attends depuis)\b",
        leaving=r"\b(?:(?:fermer|clôturer|résilier) (?:mon|le) compte|autre banque"
        r"|changer de banque|plainte|réclamation|avocat)\b",
        person=r"\b(?:personne|humain|conseill\w+|agent|opérat\w+|quelqu'un|employé)\b",
        request=r"\b(?:parler|discuter|joindre|passe[rz]?|veux|voudrais|besoin|contacter"
        r"|mettre en relation)\b",
        polite=r"\b(?:s'il (?:te|vous) plaît|svp|je voudrais|pourriez|pourrais)\b",
    ),
    "de": Cues(
        exasperation=r"\b(?:lächerlich|inakzeptabel|unakzeptabel|nutzlos|unverschämt"
        r"|frechheit|schande|absurd|satt|nase voll|reicht mir|reicht jetzt|wütend|sauer"
        r"|genervt|nervt|schrecklich|furchtbar|katastroph\w*|ein witz|inkompetent"
        r"|unmöglich|das letzte)\b",
        mild=r"\b(?:niemand|niemals|wieder|immer noch|noch immer)\b",
        repeat=r"\b(?:schon (?:gesagt|gefragt|erklärt|geschrieben)|zum (?:zweiten|dritten"
        r"|vierten) mal|wie oft|warte seit)\b",
        leaving=r"\b(?:konto (?:kündigen|schließen|auflösen)|andere bank|bank wechseln"
        r"|beschwerde|anwalt)\b",
        person=r"\b(?:mensch\w*|person|mitarbeiter\w*|berater\w*|agent\w*|jemand\w*"
        r"|kundenservice|kundendienst)\b",
        request=r"\b(?:sprechen|reden|verbinden|verbinde|ich will|möchte|brauche|kontaktieren)\b",
        polite=r"\b(?:bitte|könnte ich|könnten sie|würde gern)\b",
    ),
    "it": Cues(
        exasperation=r"\b(?:ridicol\w+|inaccettabile|inutil[ei]|vergogn\w+|assurd[oa]"
        r"|stuf[oa]|stanc[oa] di|scandal\w+|furios[oa]|arrabbiat\w|pessim\w|orribile"
        r"|terribile|schifo|presa in giro|uno scherzo|incompetent\w|(?:il|la) peggiore)\b",
        mild=r"\b(?:nessuno|mai|ancora|di nuovo)\b",
        repeat=r"\b(?:già (?:detto|chiesto|spiegato|scritto)|(?:seconda|terza|quarta) volta"
        r"|quante volte|aspetto da)\b",
        leaving=r"\b(?:chiudere (?:il mio|il) conto|altra banca|cambiare banca|reclamo"
        r"|avvocato)\b",
        person=r"\b(?:persona|umano|operat(?:ore|rice)|qualcuno|consulente|addetto)\b",
        request=r"\b(?:parlare|passami|contattare|voglio|vorrei|ho bisogno)\b",
        polite=r"\b(?:per favore|per piacere|vorrei|potrei)\b",
    ),
    "pt": Cues(
        exasperation=r"\b(?:ridícul[oa]s?|inaceitável|inúte?is|inútil|vergonh\w+|absurd[oa]"
        r"|fart[oa]|cansad[oa] de|escândalo|escandalos[oa]|furios[oa]|irritad[oa]"
        r"|péssim\w|horrível|terrível|uma piada|palhaçada|incompetent\w|(?:o|a) pior)\b",
        mild=r"\b(?:ninguém|nunca|outra vez|de novo|ainda não)\b",
        repeat=r"\b(?:já (?:disse|pedi|perguntei|expliquei|escrevi)|(?:segunda|terceira"
        r"|quarta) vez|quantas vezes|(?:estou à )?espera há)\b",
        leaving=r"\b(?:(?:fechar|encerrar|cancelar) (?:a minha |minha |a )?conta|outro banco"
        r"|mudar de banco|reclamação|queixa|advogado)\b",
        person=r"\b(?:pessoa|humano|atendente|agente|operador|alguém|assistente"
        r"|funcionári[oa])\b",
        request=r"\b(?:falar|conversar|passar|contactar|contatar|quero|preciso)\b",
        polite=r"\b(?:por favor|gostaria|poderia)\b",
    ),
    "nl": Cues(
        exasperation=r"\b(?:belachelijk|onacceptabel|nutteloos|schande|absurd|zat|beu"
        r"|woedend|vreselijk|verschrikkelijk|een grap|waardeloos|incompetent)\b",
        mild=r"\b(?:niemand|nooit|opnieuw|nog steeds)\b",
        repeat=r"\b(?:al (?:gezegd|gevraagd|uitgelegd)|(?:tweede|derde|vierde) keer"
        r"|hoe vaak)\b",
        leaving=r"\b(?:rekening (?:opzeggen|sluiten)|andere bank|klacht|advocaat)\b",
        person=r"\b(?:mens|medewerker|iemand|persoon|klantenservice)\b",
        request=r"\b(?:spreken|praten|doorverbinden|verbind|wil|wil graag)\b",
        polite=r"\b(?:alstublieft|alsjeblieft|graag|zou ik)\b",
    ),
    "pl": Cues(
        exasperation=r"\b(?:absurd\w*|niedopuszczaln\w+|bezużyteczn\w+|żenując\w+|skandal\w*"
        r"|mam dość|wkurz\w+|okropn\w+|tragedi\w+|beznadziejn\w+)",
        mild=r"\b(?:nikt|nigdy|znowu|nadal)\b",
        repeat=r"\b(?:już (?:mówiłe\w+|pisałe\w+|pytałe\w+)|ile razy)",
        leaving=r"\b(?:zamkn\w+ konto|inny bank|skarg\w+|reklamacj\w+|prawnik)",
        person=r"\b(?:człowiek\w*|konsultant\w*|pracownik\w*|osob\w+)",
        request=r"\b(?:rozmawiać|porozmawiać|połącz\w*|chcę|potrzebuję)",
        polite=r"\b(?:proszę|czy mogę|chciał\w+ bym)",
    ),
    "tr": Cues(
        exasperation=r"(?:rezalet|saçma|berbat|bıktım|yeter artık|rezil|işe yaramaz|sinir)",
        mild=r"\b(?:kimse|asla|hala|yine|tekrar)\b",
        repeat=r"(?:kaç kere|kaç kez|defalarca)",
        leaving=r"(?:hesabımı kapat|başka banka|şikayet|avukat)",
        person=r"(?:temsilci|insan|yetkili|operatör|müşteri hizmetleri)",
        request=r"(?:görüş|konuş|bağla|istiyorum)",
        polite=r"(?:lütfen|rica)",
    ),
    "ru": Cues(
        exasperation=r"(?:нелеп|абсурд|безобраз|возмутит|бесполез|ужасн|кошмар|надоел|достал"
        r"|сыт по горло|издевательств|позор|отвратит|злюсь|бесит)",
        mild=r"(?:никто|никогда|опять|снова|до сих пор)",
        repeat=r"(?:уже (?:говорил|писал|спрашивал)|сколько (?:можно|раз))",
        leaving=r"(?:закр\w+ (?:мой )?сч[её]т|друг\w+ банк|жалоб|юрист|адвокат)",
        person=r"(?:человек|оператор|сотрудник|консультант|менеджер|специалист)",
        request=r"(?:поговорить|соедин|связ|позов|переключ|хочу|нужен)",
        polite=r"(?:пожалуйста|можно ли|могу ли)",
    ),
    "ar": Cues(
        exasperation=r"(?:سخيف|مهزلة|غير مقبول|سيء|سيئ|فظيع|زهقت|سئمت|غاضب|عديم الفائدة)",
        mild=r"(?:لا أحد|أبدا|مرة أخرى|ما زال)",
        repeat=r"(?:كم مرة|قلت لك|سبق أن)",
        leaving=r"(?:إغلاق حسابي|بنك آخر|شكوى|محامي)",
        person=r"(?:موظف|شخص|إنسان|خدمة العملاء|مندوب)",
        request=r"(?:أتحدث|التحدث|أكلم|تحويل|أريد|اريد)",
        polite=r"(?:من فضلك|لو سمحت)",
    ),
    "zh": Cues(
        exasperation=r"(?:荒谬|离谱|太差|垃圾|没用|无语|受够|气死|烦死|搞什么|什么破|可笑"
        r"|不可接受|无法接受|差劲|糟糕|愤怒|生气|骗子|坑人)",
        mild=r"(?:没人|从来|又|还是没|一直没)",
        repeat=r"(?:说了(?:多少|好几|几)次|第[二三四五]次|多少次)",
        leaving=r"(?:投诉|销户|注销账户|换(?:一家)?银行)",
        person=r"(?:人工|真人|客服人员|工作人员|转客服|找客服|联系客服)",
        request="",
        polite=r"(?:请问|麻烦)",
    ),
    "ja": Cues(
        exasperation=r"(?:ふざけ|ひどい|最悪|ありえない|うんざり|役に立たない|使えない"
        r"|腹が立|いい加減)",
        mild=r"(?:誰も|また|まだ)",
        repeat=r"(?:何度も|何回)",
        leaving=r"(?:解約|口座を閉|他の銀行|苦情)",
        person=r"(?:オペレーター|担当者|人間|有人|スタッフ)",
        request=r"(?:話|繋|つな|代わ|変わ|お願い|したい)",
        polite=r"(?:ください|お願いします)",
    ),
    "ko": Cues(
        exasperation=r"(?:말도 안|어이없|최악|짜증|화가|화나|쓸모없|답답|황당)",
        mild=r"(?:아무도|또|아직)",
        repeat=r"(?:몇 번|여러 번)",
        leaving=r"(?:해지|다른 은행|민원|항의)",
        person=r"(?:상담원|상담사|사람|직원)",
        request=r"(?:연결|대화|통화|얘기|이야기|바꿔|말하)",
        polite=r"(?:주세요|부탁)",
    ),
}
"""ISO 639-1 code -> its cues, written with accents (folded before compiling). Latin-script
patterns keep word boundaries so that no English word reads as one of them; a word spelt as
in English ("terrible", "horrible") is the English pattern's."""
