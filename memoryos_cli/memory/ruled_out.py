"""Foods the user's diet or allergy rules out, which an answer must not offer.

Qwen2.5-Coder-1.5B reads "diet: vegetarian" in the system message and still suggests grilled
chicken and baked salmon (`memoryos bench constraints`: 5 of 10 food answers broke the
diet or the allergy). Telling it again does not help: the constraint repeated beside the
question, or a second turn saying "your reply offers chicken, but I'm vegetarian", got the
same answer back (docs/benchmarks.md, "Keeping to the user's diet"). So the words are kept
out of the answer where it is made: it is sampled with these foods banned
(`llm.llama.WordBan`), and the model writes around them ("grilled vegetables", "tofu").

Two kinds of word are banned:
- **foods**: chicken, salmon, shrimp... banned unless the user's own message names them
  ("Is chicken stock vegetarian?");
- **names** of what is ruled out: meat, seafood, shellfish, peanut, and any food the trait
  itself names ("allergies: shrimp"). Once chicken and shrimp were banned the model offered
  "Grilled meat and vegetables" and "a shellfish risotto", so these are banned too, except
  when the message is about the constraint itself ("What am I allergic to?": "shellfish").

Only the message lifts a ban, not the recalled memories: the page where the user said
"no meat at the party" was recalled beside "Any dinner ideas?", and a ban lifted by it let
"Grilled meat" through. The price: asked "What did my brother cook?", a remembered chicken
curry is told as "a curry".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from memoryos_cli.memory.long_term import normalize_attribute
from memoryos_cli.memory.records import ProfileItem
from memoryos_cli.words import SENTENCE_END

# Foods of each kind. Left out: words that the food's own substitutes use ("burger":
# "veggie burger"; "milk", "butter": "oat milk", "peanut butter"; "rye": "The Catcher in
# the Rye"). "turkey" and "ham" are in, though also a country and a name: a vegetarian was
# offered "1 pound ground turkey", and the ban judges a word where it ends ("hamster" and
# "Hamburg" go through); a message that names Turkey lifts its ban. With turkey banned the
# same recipe began "1 pound ground chuck": the cuts of beef are in too.
FOODS: dict[str, tuple[str, ...]] = {
    "meat": (
        "chicken", "beef", "pork", "lamb", "steak", "bacon", "turkey", "ham",
        "sausage", "meatball", "veal", "duck", "brisket", "pepperoni", "salami", "chorizo",
        "prosciutto", "pastrami", "venison", "chuck", "sirloin", "ribeye", "tenderloin",
        "meatloaf", "ribs",
    ),
    "fish": (
        "salmon", "tuna", "cod", "tilapia", "trout", "mackerel", "sardines",
        "anchovies", "halibut",
    ),
    "shellfish": (
        "shrimp", "shrimps", "prawn", "prawns", "crab", "crabs", "lobster", "lobsters",
        "mussels", "oysters", "clams", "scallops", "crawfish", "calamari", "squid",
    ),
    "dairy": ("mozzarella", "feta", "parmesan", "cheddar", "ricotta", "ghee", "buttermilk"),
    "eggs": ("omelette", "omelet"),
    "peanuts": (),
    "tree nuts": (
        "almond", "almonds", "walnut", "walnuts", "cashew", "cashews", "pecan", "pecans",
        "pistachio", "pistachios", "hazelnut", "hazelnuts",
    ),
    "gluten": ("wheat", "barley", "seitan", "couscous"),
}  # fmt: skip

# The words that name each kind: what "What am I allergic to?" must be able to answer.
NAMES: dict[str, tuple[str, ...]] = {
    "meat": ("meat", "poultry"),
    "fish": ("fish", "seafood"),
    "shellfish": ("shellfish", "seafood", "crustaceans"),
    "dairy": ("dairy", "cheese"),
    "eggs": ("egg", "eggs"),
    "peanuts": ("peanut", "peanuts"),
    "tree nuts": ("nut", "nuts"),
    "gluten": ("gluten",),
}
ANY_FOOD = frozenset(word for words in [*FOODS.values(), *NAMES.values()] for word in words)

# What a diet or an allergy, as people write it, rules out: the first pattern found in a
# trait's value decides (vegan before vegetarian, shellfish before fish).
RULES: list[tuple[re.Pattern[str], tuple[str, ...]]] = [
    (re.compile(r"\bvegan", re.I), ("meat", "fish", "shellfish", "dairy", "eggs")),
    (re.compile(r"\b(?:lacto[- ]?ovo[- ]?)?vegetarian", re.I), ("meat", "fish", "shellfish")),
    (re.compile(r"\bpesc[ae]tarian", re.I), ("meat",)),
    (re.compile(r"\b(?:shellfish|crustacean)", re.I), ("shellfish",)),
    (re.compile(r"\bseafood", re.I), ("fish", "shellfish")),
    (re.compile(r"\bfish\b", re.I), ("fish",)),
    (re.compile(r"\bpeanut", re.I), ("peanuts",)),
    (re.compile(r"\b(?:tree[- ]?)?nuts?\b", re.I), ("tree nuts", "peanuts")),
    (re.compile(r"\b(?:dairy|lactose|milk)", re.I), ("dairy",)),
    (re.compile(r"\beggs?\b", re.I), ("eggs",)),
    (re.compile(r"\b(?:gluten|wheat|coeliac|celiac)", re.I), ("gluten",)),
]

# Attributes whose every value is about food ("allergies: shellfish"); any other trait
# counts only when it says it is a diet or an allergy ("health: allergic to peanuts").
FOOD_ATTRIBUTES = frozenset(
    {
        "diet", "dietary_restrictions", "dietary_requirements", "dietary_preferences",
        "allergy", "allergies", "food_allergies", "allergic_to", "intolerances",
        "food_intolerances",
    }
)  # fmt: skip
DIET_WORD = r"(?:allerg\w*|intoleran\w*|vegetarian|vegan|pesc[ae]tarian|coeliac|celiac)"
SAYS_DIET = re.compile(rf"\b{DIET_WORD}\b", re.I)


# A message about the constraint itself: its names may be said in the answer. Not "vegan"
# or "vegetarian": "Any vegan dinner ideas?" asks for food, and "egg" must stay banned.
ABOUT_CONSTRAINT = re.compile(
    r"\b(?:allerg\w*|intoleran\w*|diet\w*|avoid\w*|restrictions?)\b",
    re.I,
)


@dataclass(frozen=True)
class RuledOut:
    foods: frozenset[str] = frozenset()  # banned unless the message names them
    names: frozenset[str] = frozenset()  # also sayable when the message is about the constraint


# A fact in the user's own voice or of the user by name ("I am allergic to peanuts", kept
# by `/remember`): the user's, where "My daughter is allergic to shrimp" is not.
SELF_SUBJECT = r"^\s*(?:I\b|I'm\b|I've\b|the user\b{name})"


# A diet or allergy said to be over or not the user's ("I'm not vegetarian anymore", "I used
# to be vegan", "I don't think I'm allergic"), where "I don't eat meat, I'm vegetarian" is.
DIET_OVER = re.compile(
    r"(?:\bnot|n['’]t|\bno longer|\bnever|\bused to(?: be)?|\bstopped(?: being)?|\bquit|\bgave up)"
    rf"\s+(?:[\w'’-]+[\s,]+){{0,2}}?{DIET_WORD}"
    r"|\b(?:vegetarian|vegan|pesc[ae]tarian)\w*\s+any\s?more",
    re.I,
)


def told_of_self(facts: Iterable[str], user_name: str = "") -> list[str]:
    """The facts, or the user's own turns, that tell the user's own diet or allergy:
    `/remember I am allergic to peanuts` was stored as a fact, never reached the profile,
    and the next snack answer offered nuts; "I've gone pescatarian since October." two
    turns before "Any idea what I could cook?" got "Grilled chicken breast" (no analysis
    had run yet). Both found by trying it."""
    first = user_name.split(" ")[0] if user_name else ""
    subject = re.compile(SELF_SUBJECT.format(name=rf"|{re.escape(first)}\b" if first else ""), re.I)
    return [
        text
        for text in facts
        if SAYS_DIET.search(text) and subject.match(text) and not DIET_OVER.search(text)
    ]


def still_said(turns: Sequence[str]) -> list[str]:
    """The sentences of the user's turns of this chat, oldest first, after the last that
    says a diet or allergy is over ("I'm not vegetarian anymore"): the ones whose diet still
    holds. Sentence by sentence, as `told_of_self` reads a fact: "Hi, I'm Noor. I'm
    vegetarian and I have a son." opens with a greeting, and the next answer offered "a
    vegetable soup with a meat broth" (a real first session)."""
    said = [sentence for turn in turns for sentence in SENTENCE_END.split(turn.strip())]
    over = [i for i, text in enumerate(said) if SAYS_DIET.search(text) and DIET_OVER.search(text)]
    return said[over[-1] + 1 :] if over else said


def ruled_out(profile: Iterable[ProfileItem], told: Iterable[str] = ()) -> RuledOut:
    """What the profile's diets and allergies rule out (lowercase words), and those `told`
    in facts of the user's own (`told_of_self`)."""
    kinds: set[str] = set()
    named: set[str] = set()  # "allergies: shrimp": the food itself, whatever its kind
    said = [(item.attribute, item.value) for item in profile] + [("fact", t) for t in told]
    for attribute, value in said:
        if normalize_attribute(attribute) not in FOOD_ATTRIBUTES and not SAYS_DIET.search(
            f"{attribute} {value}"
        ):
            continue
        named.update(w for w in re.findall(r"[a-z]+", value.lower()) if w in ANY_FOOD)
        for part in re.split(r"[,;/]|\band\b", value):
            for pattern, rules_out in RULES:
                if pattern.search(part):
                    kinds.update(rules_out)
                    break
    names = named | {word for kind in kinds for word in NAMES[kind]}
    foods = {word for kind in kinds for word in FOODS[kind]} - names
    return RuledOut(frozenset(foods), frozenset(names))


def to_avoid(profile: Iterable[ProfileItem], message: str, told: Iterable[str] = ()) -> list[str]:
    """The words the answer to `message` must not say, sorted: what the profile (and the
    facts `told`) rule out, less what the message names, and less the constraint's names
    when it is about them."""
    out = ruled_out(profile, told)
    said = set(re.findall(r"[a-z]+", message.lower()))
    words = out.foods | (frozenset() if ABOUT_CONSTRAINT.search(message) else out.names)
    return sorted(words - said)
