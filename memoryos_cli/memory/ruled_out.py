"""Foods the user's diet or allergy rules out, which an answer must not offer.

Qwen2.5-Coder-1.5B reads "diet: vegetarian" in the system message and still suggests grilled
chicken and baked salmon (`memoryos bench constraints`: 5 of 10 food answers broke the
diet or the allergy). Telling it again does not help: the constraint repeated beside the
question, or a second turn saying "your reply offers chicken, but I'm vegetarian",
got the same answer back (docs/benchmarks.md, "Keeping to the user's diet"). So the
words are kept out of the answer where it is made: each answer is sampled with these
foods' tokens banned (llama.cpp's logit bias), and the model writes around them ("grilled
vegetables", "tofu").

What is banned is concrete food, never the words a person uses to say the constraint:
"You're allergic to shellfish" and "no meat" stay sayable. A banned word the message or the
recalled memories name is allowed again for that answer: asked "What did my brother
cook?", the memory of his chicken curry is still told as it was.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from memoryos_cli.memory.long_term import normalize_attribute
from memoryos_cli.memory.records import ProfileItem

# Concrete foods of each kind. Left out: words that are also places or names ("turkey",
# "ham"), and words that the food's own substitutes use ("burger": "veggie burger";
# "milk", "butter": "oat milk", "peanut butter").
FOODS: dict[str, tuple[str, ...]] = {
    "meat": (
        "chicken", "beef", "pork", "lamb", "steak", "steaks", "bacon", "sausage", "sausages",
        "meatball", "meatballs", "veal", "duck", "brisket", "pepperoni", "salami", "chorizo",
        "prosciutto", "pastrami", "venison",
    ),
    "fish": (
        "fish", "salmon", "tuna", "cod", "tilapia", "trout", "mackerel", "sardines",
        "anchovies", "halibut",
    ),
    "shellfish": (
        "shrimp", "shrimps", "prawn", "prawns", "crab", "crabs", "lobster", "lobsters",
        "mussels", "oysters", "clams", "scallops", "crawfish", "calamari", "squid",
    ),
    "dairy": ("mozzarella", "feta", "parmesan", "cheddar", "ricotta", "ghee", "buttermilk"),
    "eggs": ("egg", "eggs", "omelette", "omelet"),
    "peanuts": ("peanut", "peanuts"),
    "tree nuts": (
        "almond", "almonds", "walnut", "walnuts", "cashew", "cashews", "pecan", "pecans",
        "pistachio", "pistachios", "hazelnut", "hazelnuts",
    ),
    "gluten": ("wheat", "barley", "rye", "seitan", "couscous"),
}  # fmt: skip

ANY_FOOD = frozenset(word for words in FOODS.values() for word in words)

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
SAYS_DIET = re.compile(
    r"\b(?:allerg\w*|intoleran\w*|vegetarian|vegan|pesc[ae]tarian|coeliac|celiac)\b", re.I
)


def ruled_out(profile: Iterable[ProfileItem]) -> frozenset[str]:
    """The foods (lowercase words) that the profile's diets and allergies rule out."""
    kinds: set[str] = set()
    named: set[str] = set()  # "allergies: shrimp": the food itself, whatever its kind
    for item in profile:
        if normalize_attribute(item.attribute) not in FOOD_ATTRIBUTES and not SAYS_DIET.search(
            f"{item.attribute} {item.value}"
        ):
            continue
        named.update(w for w in re.findall(r"[a-z]+", item.value.lower()) if w in ANY_FOOD)
        for part in re.split(r"[,;/]|\band\b", item.value):
            for pattern, rules_out in RULES:
                if pattern.search(part):
                    kinds.update(rules_out)
                    break
    return frozenset(named | {word for kind in kinds for word in FOODS[kind]})


def to_avoid(profile: Iterable[ProfileItem], said: str) -> list[str]:
    """The ruled-out foods an answer must not offer, sorted: all but those `said` names
    (the user's message, the recalled memories and recent turns the prompt shows)."""
    named = set(re.findall(r"[a-z]+", said.lower()))
    return sorted(word for word in ruled_out(profile) if word not in named)
