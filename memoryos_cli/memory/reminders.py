"""What the user told that must shape every answer on its topic: a diet, an allergy, a food
they avoid, repeated beside a message about food.

The profile stands in the system message, and Qwen2.5-Coder-1.5B reads it there without
following it: with "diet: vegetarian" in the profile, "Any dinner ideas for tonight?" got
grilled chicken, baked salmon and steak, and a system line saying the answer must suit the
user's diet changed nothing. The same line repeated in the user's turn, just before the
question, was followed: "vegetarian dinner ideas: vegetable stir-fry, vegetable soup..."
(docs/benchmarks.md, "Reminders: the user's diet beside a food question").

Repeated only when the message is about food. Said with every message, it leaked into
answers it had nothing to do with ("a vegetarian-friendly book"). Neither packaged model
tells a food question from another: the question-answer judge scores "diet: vegetarian"
as noise for "What should I cook for dinner tonight?" (-9.9), and bge-small puts it at
cosine 0.47-0.62 to food questions and up to 0.53 to others ("Tell me a joke."). So the
topic is read from the words, a list anyone can read and extend.
"""

from __future__ import annotations

import re

from memoryos_cli.memory.long_term import normalize_attribute
from memoryos_cli.memory.records import ProfileItem

# Profile attributes that bind every answer about food (as `normalize_attribute` writes them).
FOOD_CONSTRAINTS = frozenset(
    {
        "diet", "dietary_restrictions", "dietary_requirements", "dietary_preferences",
        "allergy", "allergies", "food_allergies", "allergic_to", "intolerances",
        "food_intolerances", "dislikes", "food_dislikes", "foods_to_avoid", "avoids",
    }
)  # fmt: skip

# Words of a message about eating: meals, cooking, places to eat, what is eaten. A root
# matches whatever follows it ("cook", "cooking", "cookbook"); a word that begins other
# words ("dish": "dishonest", "lamb": "lambda", "fish": "fishing") matches itself and its
# plural only.
FOOD_ROOTS = (
    "breakfast", "brunch", "lunch", "dinner", "supper", "meal", "snack", "recipe", "cook",
    "bake", "baking", "grill", "roast", "food", "cuisine", "restaurant", "cafe", "café",
    "takeaway", "takeout", "grocer", "ingredient", "dessert", "barbecue", "picnic",
    "potluck", "buffet", "hungry", "appetizer", "sandwich", "salad", "pasta", "pizza",
    "curry", "burger", "sushi", "noodle", "cheese", "meat", "chicken", "beef", "pork",
    "seafood", "shellfish", "shrimp", "prawn", "vegan", "vegetarian", "gluten", "dairy",
    "peanut", "kitchen", "leftover", "vegetable", "spicy", "dietary", "allerg",
)  # fmt: skip
FOOD_WORDS = (
    "eat", "eats", "eating", "ate", "eaten", "dine", "dining", "diet", "dish", "menu",
    "cake", "soup", "stew", "taco", "bread", "lamb", "fish", "egg", "milk", "nut", "rice",
    "bean", "tofu", "fruit", "chef", "bbq", "catering",
)  # fmt: skip
FOOD_TALK = re.compile(
    rf"\b(?:(?:{'|'.join(FOOD_ROOTS)})\w*|(?:{'|'.join(FOOD_WORDS)})(?:s|es)?)\b",
    re.IGNORECASE,
)


# A trait filed under another attribute that still rules food out ("health: allergic to
# shellfish", "preferences: vegan").
FOOD_RULE = re.compile(
    r"\b(?:allerg\w*|intoleran\w*|vegetarian|vegan|pescatarian|gluten|lactose|coeliac|celiac|"
    r"halal|kosher)\b",
    re.IGNORECASE,
)


def binds_food(item: ProfileItem) -> bool:
    """Whether a profile trait rules out some food: a diet, an allergy, a dislike."""
    attribute = normalize_attribute(item.attribute)
    return (
        attribute in FOOD_CONSTRAINTS or FOOD_RULE.search(f"{attribute} {item.value}") is not None
    )


def about_food(message: str) -> bool:
    """Whether `message` is about eating (a meal, a recipe, a restaurant, a food)."""
    return FOOD_TALK.search(message) is not None


def reminders(message: str, profile: list[ProfileItem]) -> list[str]:
    """The profile lines to repeat beside `message`: its food constraints ("diet:
    vegetarian") when the message is about food, else none."""
    if not about_food(message):
        return []
    return [f"{p.attribute.replace('_', ' ')}: {p.value}" for p in profile if binds_food(p)]
