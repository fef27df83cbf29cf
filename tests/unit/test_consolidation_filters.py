"""Each consolidation rule on a table of cases it must keep and cases it must drop: a true
fact a rule drops is lost for good, a false one it keeps crowds the recalled facts."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from memoryos_cli.memory import rules
from memoryos_cli.memory.analysis import Analysis

Pages = list[tuple[int, float, str, str]]
THANKS = [
    (1, 0.0, "Thanks for the encouragement, Gina! My son Tom starts at MIT.", "Anytime, Jon!")
]
CLINIC = [(1, 0.0, "Dr. Patel fixed my knee last month, I thanked him.", "Glad it went well.")]


def ruled(rule: str, analysis: Analysis, pages: Pages, user_name: str = "") -> list[rules.Note]:
    """Run the one rule named `rule` over `analysis`, the user's name known if given."""
    profile = [SimpleNamespace(attribute="name", value=user_name)] if user_name else []
    chosen = tuple(r for r in rules.RULES if r.name == rule)
    assert chosen, rule
    return rules.apply_rules(analysis, rules.Batch(pages, pages, profile), chosen)


def user_fact_after(rule: str, fact: str, cited: list[int], pages: Pages, name: str = "") -> list:
    """The user facts `rule` leaves of one user fact citing `cited`."""
    analysis = Analysis(user_facts=[(fact, cited)])
    ruled(rule, analysis, pages, name)
    return analysis.user_facts


def kept_facts(rule: str, text: str, pages: Pages | None = None) -> bool:
    analysis = Analysis(user_facts=[(text, [1])])
    ruled(rule, analysis, pages or [(1, 0.0, "", "")])
    return bool(analysis.user_facts)


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Note: the user is allergic to shellfish.", True),  # a label, not a speaker
        ("Note: history exam on Monday.", True),  # "hi" begins "history": no greeting
        ("Ana is reading 'Your Brain on Food'.", True),  # "Your" inside a title
        ('Ana\'s favourite song is "You Are My Sunshine".', True),
        ("I find my painting class with Lea inspiring.", True),  # the user's own voice
        ("Melanie: I'm glad the painting class was inspiring.", False),
        ("Caroline: Hey Mel!", False),
        ("The user found your painting class inspiring.", False),
        ("Assistant: glad you found the painting class.", False),
    ],
)
def test_chat_lines(text: str, kept: bool) -> None:
    assert kept_facts("chat_line", text) is kept


GINA_TAGGED = [
    (1, 0.0, "Jon: We're doing contemporary and hip-hop.", "Gina: Wow, they look great!"),
]


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        # a speaker tag of the batch's turns over a turn: a turn, whatever follows it
        ("Gina: Wow, they look great! Can't wait to see them rock the festival.", False),
        ("Jon: Doing contemporary and hip-hop.", False),
        # a label, and a name that opens no turn here
        ("Note: Gina loves the festival.", True),
        ("Festival: Jon performs in February.", True),
    ],
)
def test_a_turn_under_a_speaker_tag_of_the_batch(text: str, kept: bool) -> None:
    """In the batch that stored the Gina line (LoCoMo conv-30), no one called Gina by name."""
    analysis = Analysis(assistant_facts=[(text, [1])])
    ruled("chat_line", analysis, GINA_TAGGED)
    assert bool(analysis.assistant_facts) is kept


def test_a_label_on_one_of_the_users_messages_is_no_speaker() -> None:
    """A tag that does not open every turn of its side is the user's label, not a name."""
    pages = [
        (1, 0.0, "Reminder: dentist on Friday at 9.", "Noted!"),
        (2, 0.0, "I booked the dentist for Friday.", "Good."),
    ]
    analysis = Analysis(user_facts=[("Reminder: dentist on Friday at 9.", [1])])
    ruled("chat_line", analysis, pages)
    assert analysis.user_facts == [("Reminder: dentist on Friday at 9.", [1])]


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Gina: Wow, they look great! Can't wait to see them rock the festival.", False),
        ("Jon: Dancing is the best.", False),
        ("Note: Jon's studio opens in May.", True),  # a label, not a side
        ("Tom: his son starts at MIT.", True),  # Tom is no side of this conversation
    ],
)
def test_a_turn_under_a_sides_name(text: str, kept: bool) -> None:
    assert kept_facts("chat_line", text, THANKS) is kept


@pytest.mark.parametrize(
    ("text", "pages", "kept"),
    [
        ("The user thanked Dr. Patel for the knee surgery.", CLINIC, True),
        ("Ana encouraged Tom, her son, to apply to MIT.", THANKS, True),
        ("Jon thanks his sister Emma for the running shoes.", THANKS, True),
        ("Jon expressed joy in dancing.", THANKS, True),
        ("Jon thanked Gina for the encouragement.", THANKS, False),  # "Thanks, Gina!"
        ("Gina encouraged Jon to keep going.", THANKS, False),  # "Anytime, Jon!"
        ("The user thanked the assistant for the tip.", CLINIC, False),
        ("Jon expressed gratitude for the encouragement.", THANKS, False),
    ],
)
def test_courtesies(text: str, pages: Pages, kept: bool) -> None:
    assert kept_facts("courtesy", text, pages) is kept


@pytest.mark.parametrize(
    ("value", "kept"),
    [("Jon", True), ("Gina", False), ("Mel", False)],
)
def test_addressed_names(value: str, kept: bool) -> None:
    pages = [(1, 0.0, "Hey Gina! I'm Jon. Thanks, Mel", "Hi Jon!")]
    analysis = Analysis(profile=[("name", value, [1])])
    ruled("addressed_name", analysis, pages)
    assert bool(analysis.profile) is kept


@pytest.mark.parametrize(
    ("attribute", "value", "kept"),
    [
        ("partner", "Jolene", False),  # LoCoMo conv-48: Deborah greets Jolene
        ("family", "Mel and her children", False),  # conv-26: Mel's family
        ("family", "husband Ed, daughter Mia", True),
        ("city", "Melbourne", True),  # a word, not the name
        ("family", "son Milo", True),  # "a son, Milo, who": set off, not spoken to
        ("pets", "dog Rex", True),  # "my little dog, Rex."
        ("partner", "Tom", False),  # "Sorry about your dad, Tom.": spoken to
    ],
)
def test_a_profile_value_naming_the_one_the_user_speaks_to_is_not_theirs(
    attribute: str, value: str, kept: bool
) -> None:
    said = "Hey Jolene! Thanks, Mel. Ed and I moved to Melbourne with a son, Milo, who is 6."
    pages = [(1, 0.0, f"{said} And my little dog, Rex. Sorry about your dad, Tom.", "Hi Deb!")]
    analysis = Analysis(profile=[(attribute, value, [1])])
    ruled("addressed_name", analysis, pages, "Deborah")
    assert bool(analysis.profile) is kept


@pytest.mark.parametrize(
    ("said", "value", "known", "kept"),
    [
        # a real first session: no name given, a sister named (Qwen 1.5B wrote "name = Lena")
        ("My sister Lena is visiting in two weeks.", "Lena", "", False),
        ("I'm Lena's sister, by the way.", "Lena", "", False),
        ("Lena said I'm too busy.", "Lena", "", False),
        # kept: the user gives it
        ("Hi! I'm Tom, I just moved to Porto.", "Tom", "", True),
        ("My name is Tom Reyes.", "Tom Reyes", "", True),
        ("Call me Tom.", "Tom", "", True),
        ("Tom here, back from the trip.", "Tom", "", True),
        ("Caroline: I went to the support group.", "Caroline", "", True),  # an imported chat
        ("My sister Lena is visiting.", "Tom", "Tom", True),  # the name as stored
    ],
)
def test_a_name_is_the_users_only_as_the_user_gives_it(
    said: str, value: str, known: str, kept: bool
) -> None:
    pages = [(1, 0.0, said, "Nice!")]
    analysis = Analysis(profile=[("name", value, [1]), ("city", "Porto", [1])])
    ruled("name_not_given", analysis, pages, known)
    assert [a for a, _, _ in analysis.profile] == (["name", "city"] if kept else ["city"])


@pytest.mark.parametrize(
    ("said", "fact", "known", "added"),
    [
        # a real first session: "name = Max" was dropped and no name was proposed for Tom
        ("From now on your name is Max. I am Tom, a teacher in Leeds.",
         "Tom is a teacher in Leeds.", "", "Tom"),
        ("Hi, I'm Noor. My cat Miso is ill.", "Noor's cat Miso is ill.", "", "Noor"),
        ("My name is Ana and I teach piano.", "Ana teaches piano.", "", "Ana"),
        # no name given in the user's own words, or one that is not theirs
        ("My sister Lina lives in Paris.", "Lina lives in Paris.", "", None),
        ("This is Lina, my sister, she lives in Paris.", "Lina lives in Paris.", "", None),
        ("I'm Lina's brother.", "Lina has a brother.", "", None),
        ("I'm Italian and I cook a lot.", "Italian cooking is a hobby.", "", None),
        # a name already known
        ("I am Tom, a teacher in Leeds.", "Tom is a teacher in Leeds.", "Thomas", None),
    ],
)  # fmt: skip
def test_the_name_the_user_gives_is_added_when_a_fact_calls_them_by_it(
    said: str, fact: str, known: str, added: str | None
) -> None:
    analysis = Analysis(user_facts=[(fact, [1])])
    notes = ruled("name_given", analysis, [(1, 0.0, said, "Nice to meet you!")], known)
    assert analysis.user_facts == [(fact, [1])]  # the fact itself stays
    assert analysis.profile == ([("name", added, [1])] if added else [])
    assert [n.action for n in notes] == (["added"] if added else [])


def test_a_name_proposed_in_the_same_reply_is_not_added_again() -> None:
    analysis = Analysis(user_facts=[("Tom is a teacher.", [1])], profile=[("name", "Tom", [1])])
    ruled("name_given", analysis, [(1, 0.0, "I am Tom, a teacher.", "Hi Tom!")])
    assert analysis.profile == [("name", "Tom", [1])]


def test_a_value_given_twice_in_one_reply_is_one_item() -> None:
    """Two facts calling the user Tom each added "name = Tom": evidence 2 from one reply."""
    pages = [
        (1, 0.0, "Hi! I am Tom, a teacher in Leeds. Running is my hobby.", "Hello Tom!"),
        (2, 0.0, "I live near the park, my hobby is running there.", "Lovely."),
    ]
    analysis = Analysis(
        user_facts=[("Tom is a teacher in Leeds.", [1]), ("Tom lives near the park.", [2])],
        profile=[("hobbies", "running", [1]), ("Hobbies", "Running ", [2])],
    )
    rules.apply_rules(analysis, rules.Batch(pages, pages))
    assert sorted(analysis.profile) == [("hobbies", "running", [1, 2]), ("name", "Tom", [1])]


SUPPORT = [(1, 0.0, "I adopted a grey kitten called Miso.", "Cute!"), (2, 0.0, "Busy day.", "Ok.")]


@pytest.mark.parametrize(
    ("text", "cited", "kept"),
    [
        ("Jon adopted a grey kitten named Miso.", [1], True),
        ("Jon adopted a grey kitten named Miso.", [2], False),  # its page does not say it
        ("Jon adopted a golden retriever puppy.", [1], False),  # invented details
        ("Jon.", [1], False),  # only who it is about
    ],
)
def test_unsupported(text: str, cited: list[int], kept: bool) -> None:
    analysis = Analysis(user_facts=[(text, cited)])
    ruled("unsupported", analysis, SUPPORT, user_name="Jon")
    assert bool(analysis.user_facts) is kept


@pytest.mark.parametrize(
    ("said", "answered", "kept"),
    [
        ("I'm Noor, I turned 10 today!", "Happy birthday!", True),
        ("The quick brown fox jumps over the lazy dog.", "Noor is a 10-year-old girl.", False),
        ("I am Noor.", "Hi Noor!", False),  # nobody said 10
    ],
)
def test_a_number_in_the_profile_is_one_the_user_said(said: str, answered: str, kept: bool) -> None:
    """A real chat: the model answered a pasted text with "Noor is a 10-year-old girl",
    and "age: 10" went into the profile."""
    analysis = Analysis(profile=[("age", "10", [1])])
    ruled("unsupported", analysis, [(1, 0.0, f"{said} My age matters.", answered)])
    assert bool(analysis.profile) is kept


@pytest.mark.parametrize(
    ("kind", "text", "kept"),
    [
        ("user", "The user ran the charity race on Saturday.", True),
        ("user", "The user went camping in the mountains with the kids.", False),
        ("assistant", "The assistant went camping in the mountains with the kids.", True),
        ("assistant", "The assistant ran the charity race.", False),
    ],
)
def test_misattributed(kind: str, text: str, kept: bool) -> None:
    pages = [(1, 0.0, "I ran the charity race on Saturday!", "We went camping in the mountains.")]
    analysis = Analysis(**{f"{kind}_facts": [(text, [1])]})  # type: ignore[arg-type]
    ruled("misattributed", analysis, pages)
    assert bool(getattr(analysis, f"{kind}_facts")) is kept


# A real chat: the diet told on one page, the model's answer echoing it on the next.
DIET = [
    (1, 0.0, "Quick note: I'm vegetarian, and I cook most evenings.", "Noted, thanks!"),
    (2, 0.0, "Any dinner ideas for tonight?", "Since you're vegetarian, try a lentil curry."),
    (3, 0.0, "Lovely, I'll go shopping later.", "Enjoy the shopping!"),
]


@pytest.mark.parametrize(
    ("kind", "attribute", "text", "answered", "after"),
    [
        ("profile", "diet", "vegetarian", {1, 2, 3}, [1]),  # cited where the user said it
        ("user", "", "The user is vegetarian.", {1, 2, 3}, [1]),
        ("profile", "diet", "vegetarian", set(), None),  # a person's answer: their claim
        ("profile", "diet", "lentil curry", {1, 2, 3}, None),  # the user never said it
    ],
)
def test_an_item_the_model_echoed_is_cited_where_the_user_said_it(
    kind: str, attribute: str, text: str, answered: set[int], after: list[int] | None
) -> None:
    """Qwen 1.5B cited the answer's page for `diet = vegetarian`, and `misattributed`
    dropped the user's diet as the assistant's words."""
    if kind == "profile":
        analysis = Analysis(profile=[(attribute, text, [2])])
    else:
        analysis = Analysis(user_facts=[(text, [2])])
    chosen = tuple(r for r in rules.RULES if r.name == "misattributed")
    rules.apply_rules(analysis, rules.Batch(DIET, DIET, answered=frozenset(answered)), chosen)
    kept = [sources for *_, sources in [*analysis.profile, *analysis.user_facts]]
    assert kept == ([] if after is None else [after])


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Ana adopted a cat named Luna.", True),
        ("Tom adopted a cat named Miso on 2 March 2021.", False),  # the prompt's example
        ("Lea recommended Ana a vet in Porto.", False),  # the example blended in
    ],
)
def test_copied_example(text: str, kept: bool) -> None:
    excerpts = "I adopted a cat named Luna. Lea is my friend and Ana is my name."
    assert kept_facts("copied_example", text, [(1, 0.0, excerpts, "")]) is kept


@pytest.mark.parametrize(
    ("said", "attribute", "value", "kept"),
    [
        ("Hi, I'm Tom.", "name", "Tom", True),  # the example's own item, and the user's name
        ("Hi, I'm Tom.", "pets", "cat Miso", False),  # the example's, copied
        ("Hi, I'm Ana.", "name", "Tom", False),
        ("My cat Miso is asleep.", "pets", "cat Miso", True),
    ],
)
def test_copied_example_spares_what_the_user_said(
    said: str, attribute: str, value: str, kept: bool
) -> None:
    analysis = Analysis(profile=[(attribute, value, [1])])
    ruled("copied_example", analysis, [(1, 0.0, said, "Hello!")])
    assert bool(analysis.profile) is kept


# A real chat (Qwen 1.5B): the model's own mistake in its answer, and the user's words.
ASKED = "What should I cook for Lena this weekend? Remember my allergy."
WRONG = "Since Lena is allergic to shellfish, try grilled shrimp or oysters instead."
CHAT = [
    (1, 0.0, "I'm allergic to shellfish, keep that in mind for recipes.", "Noted!"),
    (2, 0.0, ASKED, WRONG),
    (3, 0.0, "I'm going to Japan in April!", "How exciting, enjoy the trip!"),
    (4, 0.0, "I got the job!", "Congratulations on your new position at Google!"),
    (5, 0.0, "We adopted a dog called Miso.", "Miso sounds lovely."),
]


@pytest.mark.parametrize(
    ("kind", "attribute", "text", "cited", "answered", "kept"),
    [
        ("user", "", "Lena is allergic to shellfish.", [2], {2}, False),
        ("user", "", "Lena is allergic to shellfish.", [2], set(), True),  # a person's answer
        ("user", "", "The user is allergic to shellfish.", [1, 2], {1, 2}, True),  # told on 1
        ("user", "", "The user is going on a trip to Japan in April.", [3], {3}, True),
        ("user", "", "The user got a new position at Google.", [4], {4}, False),
        ("user", "", "The user got a new position at Google.", [4], set(), True),
        ("profile", "allergies", "shellfish", [2], {2}, False),
        ("profile", "pets", "dog Miso", [5], {5}, True),
        ("assistant", "", "The assistant suggested grilled shrimp or oysters.", [2], {2}, False),
        ("assistant", "", "The assistant suggested grilled shrimp or oysters.", [2], set(), True),
        ("assistant", "", "The assistant suggested grilled shrimp or oysters.", [1, 2], {2}, True),
    ],
)
def test_model_said(
    kind: str, attribute: str, text: str, cited: list[int], answered: set[int], kept: bool
) -> None:
    if kind == "profile":
        analysis = Analysis(profile=[(attribute, text, cited)])
    else:
        analysis = Analysis(**{f"{kind}_facts": [(text, cited)]})  # type: ignore[arg-type]
    chosen = tuple(r for r in rules.RULES if r.name == "model_said")
    batch = rules.Batch(CHAT, CHAT, answered=frozenset(answered))
    rules.apply_rules(analysis, batch, chosen)
    assert bool(analysis.profile or analysis.user_facts or analysis.assistant_facts) is kept


@pytest.mark.parametrize(
    ("user_facts", "assistant_facts", "kept_user", "kept_assistant"),
    [
        # filed under the wrong side, its subject only the role: moved, subject renamed
        (
            [],
            ["The assistant is flying to Oslo for a conference."],
            ["Mara is flying to Oslo for a conference."],
            [],
        ),  # noqa: E501
        # the other side's claim under a name: dropped, not moved (whose name is unknown)
        (["Lea went camping in the mountains."], [], [], []),
        # each on its own side: kept as they are
        (
            ["The user is flying to Oslo."],
            ["The assistant went camping in the mountains."],
            ["The user is flying to Oslo."],
            ["The assistant went camping in the mountains."],
        ),  # noqa: E501
        (
            ["The user went camping in the mountains."],
            [],
            [],
            ["The assistant went camping in the mountains."],
        ),  # noqa: E501
    ],
)
def test_misattributed_role_facts_move_to_their_side(
    user_facts: list[str],
    assistant_facts: list[str],
    kept_user: list[str],
    kept_assistant: list[str],
) -> None:
    pages = [
        (
            1,
            0.0,
            "Next month I'm flying to Oslo for a conference.",
            "We went camping in the mountains.",
        )
    ]  # noqa: E501
    analysis = Analysis(
        user_facts=[(t, [1]) for t in user_facts],
        assistant_facts=[(t, [1]) for t in assistant_facts],
    )
    ruled("misattributed", analysis, pages, "Mara")
    assert [t for t, _ in analysis.user_facts] == kept_user
    assert [t for t, _ in analysis.assistant_facts] == kept_assistant


@pytest.mark.parametrize(
    ("said", "shown"),
    [
        ("My daughter Klara started violin, and I'm allergic to cats.",
         "My daughter Klara started violin. I'm allergic to cats."),
        ("Tom left early; but my car stayed.", "Tom left early. My car stayed."),
        ("I like tea and my sister likes coffee.", "I like tea and my sister likes coffee."),
        ("Klara plays violin, and she loves it.", "Klara plays violin, and she loves it."),
    ],
)  # fmt: skip
def test_a_clause_in_the_speakers_own_voice_is_shown_as_its_own_sentence(
    said: str, shown: str
) -> None:
    assert rules.split_own_clauses(said) == shown


def test_a_role_fact_half_in_the_other_sides_words_is_dropped_not_moved() -> None:
    pages = [(1, 0.0, "My daughter Klara started violin lessons.", "How lovely!")]
    analysis = Analysis(
        assistant_facts=[("The assistant recommended Klara a violin teacher.", [1])]
    )
    ruled("misattributed", analysis, pages, "Mara")
    assert analysis.user_facts == [] and analysis.assistant_facts == []


FIRST_SESSION = [
    (1, 0.0, "Hi! I'm Mara Lindqvist, a pharmacist in Bergen.", "Hello Mara!"),
    (2, 0.0, "My daughter Klara started violin lessons, and I'm allergic to cats.", "Tricky!"),
]


@pytest.mark.parametrize(
    ("fact", "stored"),
    [
        ("Klara is allergic to cats.", ["Mara Lindqvist is allergic to cats."]),  # the user's
        ("Klara started violin lessons, and she's allergic to cats.",
         ["Klara started violin lessons.", "Mara Lindqvist is allergic to cats."]),
        ("Klara started violin lessons and is allergic to cats.",
         ["Klara started violin lessons.", "Mara Lindqvist is allergic to cats."]),
        ("Klara started violin lessons.", ["Klara started violin lessons."]),  # Klara's
        ("Klara plays violin and piano.", ["Klara plays violin and piano."]),
        ("Mara's daughter Klara started violin lessons and is allergic to cats.",
         ["Mara's daughter Klara started violin lessons.", "Mara Lindqvist is allergic to cats."]),
        ("Mara Lindqvist is allergic to cats.", ["Mara Lindqvist is allergic to cats."]),
        ("The user is allergic to cats.", ["The user is allergic to cats."]),
        ("Klara is allergic to dogs and horses.", ["Klara is allergic to dogs and horses."]),
    ],
)  # fmt: skip
def test_what_the_user_said_of_themself_is_about_the_user(fact: str, stored: list[str]) -> None:
    analysis = Analysis(user_facts=[(fact, [2])])
    ruled("self_statement", analysis, FIRST_SESSION, "Mara Lindqvist")
    assert analysis.user_facts == [(text, [2]) for text in stored]


WEDDING = [
    (1, 0.0, "Thanks, Mel! My family are my rocks.", "Glad to hear it, Caroline!"),
    (2, 0.0, "What a family pic! How long have you been married?", "5 years already!"),
    (3, 0.0, "Do you think I should quit my job at the bakery?", "Only if you want to."),
    (4, 0.0, "I got married in June. Have you been married long?", "10 years!"),
]


@pytest.mark.parametrize(
    ("kind", "text", "cited", "kept"),
    [
        ("user", "Caroline is married to Mel for 5 years.", [1, 2], False),  # LoCoMo conv-26
        ("profile", "married", [2], False),
        ("user", "Caroline asked how long Mel has been married.", [2], False),
        ("user", "Caroline is thinking of quitting her job at the bakery.", [3], True),  # own
        ("user", "Caroline got married in June.", [4], True),  # said, then asked too
        ("user", "Caroline's family are her rocks.", [1, 2], True),
        ("profile", "bakery", [3], True),
    ],
)
def test_what_the_user_only_asked_the_other_side_is_not_the_users(
    kind: str, text: str, cited: list[int], kept: bool
) -> None:
    if kind == "profile":
        analysis = Analysis(profile=[("status", text, cited)])
    else:
        analysis = Analysis(user_facts=[(text, cited)])
    ruled("asked_not_told", analysis, WEDDING, "Caroline")
    assert bool(analysis.user_facts or analysis.profile) is kept


GAMES = [
    (
        1,
        0.0,
        "Thanks, John! Setting small goals and tracking my progress keeps me going. "
        "I promise to keep you updated.",
        "Great, James! I found a perfect spot for my store.",
    ),
    (2, 0.0, "Hey John, how is your robotics project going?", "Slowly, but it works."),
]


@pytest.mark.parametrize(
    ("fact", "cited", "user", "assistant"),
    [
        # the other side's, by the name the user calls them: moved to their side
        ("John found a perfect spot for his store.", [1], [],
         ["John found a perfect spot for his store."]),
        ("John has been working on a robotics project.", [2], [],
         ["John has been working on a robotics project."]),
        # the user's own words under the other side's name: the user's
        ("John set small goals and tracked his progress.", [1],
         ["James set small goals and tracked his progress."], []),
        ("John promised to keep James updated.", [1], [], []),  # would name James twice
        ("John is the assistant.", [1], [], []),  # a role
        ("John is the assistant who recommends games.", [1], [], []),
        # names the user does not call the other side by stay
        ("James set small goals and tracked his progress.", [1],
         ["James set small goals and tracked his progress."], []),
        ("Emma has been working on a robotics project.", [2],
         ["Emma has been working on a robotics project."], []),
    ],
)  # fmt: skip
def test_a_fact_named_after_the_one_the_user_speaks_to(
    fact: str, cited: list[int], user: list[str], assistant: list[str]
) -> None:
    analysis = Analysis(user_facts=[(fact, cited)])
    ruled("other_side_named", analysis, GAMES, "James")
    assert [t for t, _ in analysis.user_facts] == user
    assert [t for t, _ in analysis.assistant_facts] == assistant


def test_with_the_users_name_unknown_their_words_under_another_name_stay() -> None:
    analysis = Analysis(user_facts=[("John set small goals and tracked his progress.", [1])])
    ruled("other_side_named", analysis, GAMES)
    assert analysis.user_facts == [("John set small goals and tracked his progress.", [1])]


PLAN = [(3, 0.0, "Next month I'm flying to Oslo for a conference on green chemistry.", "Fun!")]


@pytest.mark.parametrize(
    ("fact", "pages", "stored"),
    [
        ("She plans to fly to Oslo for a conference on green chemistry.", PLAN,
         "Mara Lindqvist plans to fly to Oslo for a conference on green chemistry."),
        ("He is flying to Oslo for a green chemistry conference.", PLAN,
         "Mara Lindqvist is flying to Oslo for a green chemistry conference."),
        # the pronoun is someone the user speaks of: not the user's own sentence
        ("She started violin lessons.", FIRST_SESSION, "She started violin lessons."),
        ("They are flying to Oslo for a conference on green chemistry.", PLAN,
         "They are flying to Oslo for a conference on green chemistry."),
        ("She plans to visit her aunt in Rome.", PLAN, "She plans to visit her aunt in Rome."),
    ],
)  # fmt: skip
def test_a_pronoun_put_on_the_users_own_sentence_becomes_the_user(
    fact: str, pages: Pages, stored: str
) -> None:
    """A second look told only the user's name wrote "She plans to fly to Oslo..." (Qwen
    1.5B): a fact about no one, once stored. The sentence that holds its claim need not
    open in the first person ("Next month I'm...")."""
    cited = [pages[-1][0]]
    assert user_fact_after("self_statement", fact, cited, pages, "Mara Lindqvist") == [
        (stored, cited)
    ]


@pytest.mark.parametrize(
    ("said", "tells"),
    [
        ("Next month I'm flying to Oslo for a conference on green chemistry.", True),
        ("My daughter Klara just started violin lessons.", True),
        ("Games are my go-to when I'm feeling overwhelmed.", True),
        ("Hey! So glad to see you. I went hiking with my dog Rex yesterday.", True),
        ("I'm so glad!", False),  # no three content words
        ("Thanks, that means a lot to me.", False),
        ("Have you ever been to Oslo for a chemistry conference, my friend?", False),  # asked
        ("The conference on green chemistry is in Oslo next month.", False),  # not of themself
        ("", False),
    ],
)
def test_what_tells_of_the_speaker(said: str, tells: bool) -> None:
    assert rules.tells_of_themself(said) is tells


def test_unheard_pages_are_those_telling_of_the_user_that_no_kept_item_cites() -> None:
    pages = [
        *FIRST_SESSION,
        *PLAN,
        (4, 0.0, "What do you think of Oslo?", "Lovely city."),  # asks, tells nothing
        (5, 0.0, "I play chess with my uncle on Sundays.", "Nice."),
    ]
    analysis = Analysis(
        user_facts=[("Mara is allergic to cats.", [2])],
        assistant_facts=[("The assistant wished Mara a fun trip to Oslo.", [3])],  # not hers
        profile=[("job", "pharmacist", [1])],
    )
    batch = rules.Batch(pages, pages, [])
    assert rules.unheard_pages(analysis, batch) == [3, 5]
    analysis.user_facts.append(("Mara plays chess with her uncle on Sundays.", [5]))
    assert rules.unheard_pages(analysis, batch) == [3]


def test_with_the_users_name_unknown_a_name_may_be_theirs_and_stays() -> None:
    analysis = Analysis(user_facts=[("Mara is allergic to cats.", [2])])
    ruled("self_statement", analysis, FIRST_SESSION)
    assert analysis.user_facts == [("Mara is allergic to cats.", [2])]


@pytest.mark.parametrize(
    ("user_name", "kept_user"),
    [
        ("Mara", ["Mara's daughter Klara started violin lessons."]),
        ("", []),  # the name in it may be the user's, unknown: dropped as before
    ],
)
def test_a_named_user_fact_filed_under_the_assistant_moves_once_the_user_is_known(
    user_name: str, kept_user: list[str]
) -> None:
    pages = [(1, 0.0, "My daughter Klara started violin lessons.", "Safe travels!")]
    fact = ("Mara's daughter Klara started violin lessons.", [1])
    analysis = Analysis(assistant_facts=[fact])
    ruled("misattributed", analysis, pages, user_name)
    assert [t for t, _ in analysis.user_facts] == kept_user and analysis.assistant_facts == []


OSLO = [
    (1, 0.0, "Hi! I'm Mara, a pharmacist in Bergen.", "Nice to meet you, Mara!"),
    (2, 0.0, "Next month I'm flying to Oslo for a conference on green chemistry.", "Enjoy it!"),
    (
        3,
        0.0,
        "Should I fly to Bergen or take the train?",
        "Take the train to Bergen, it is lovely.",
    ),
]


@pytest.mark.parametrize(
    ("fact", "user_facts", "assistant_facts"),
    [
        # the user's plan, told back as the assistant's advice: the user's plan
        ("The assistant suggested that the user should fly to Oslo for a conference on green"
         " chemistry next month.",
         ["Mara plans to fly to Oslo for a conference on green chemistry next month."], []),
        ("The assistant encouraged the user to fly to Oslo for the conference.",
         ["Mara plans to fly to Oslo for the conference."], []),
        # advice the user never spoke of: the assistant's, as the model filed it
        ("The assistant suggested that the user should pack warm clothes for Oslo.",
         [], ["The assistant suggested that the user should pack warm clothes for Oslo."]),
        # the assistant's own words: its advice stays its own
        ("The assistant told the user to enjoy it.", [],
         ["The assistant told the user to enjoy it."]),
        # advice the assistant gave, on a choice the user asked about: the assistant's
        ("The assistant suggested that the user should take the train to Bergen.", [],
         ["The assistant suggested that the user should take the train to Bergen."]),
        # not advice: left to the other rules
        ("The assistant is flying to Oslo.", [], ["The assistant is flying to Oslo."]),
    ],
)  # fmt: skip
def test_the_users_plan_told_as_the_assistants_advice_is_the_users(
    fact: str, user_facts: list[str], assistant_facts: list[str]
) -> None:
    analysis = Analysis(assistant_facts=[(fact, [2, 3] if "Bergen" in fact else [2])])
    ruled("reported_plan", analysis, OSLO, "Mara")
    assert [t for t, _ in analysis.user_facts] == user_facts
    assert [t for t, _ in analysis.assistant_facts] == assistant_facts


def test_a_role_fact_that_names_the_other_side_is_not_renamed_into_nonsense() -> None:
    """ "The assistant recommends James to try out RPGs" renamed would read "James recommends
    James..."; the user's plan told as advice is the user's plan."""
    pages = [(1, 0.0, "I'm James. I might try out RPGs like that or MOBAs.", "Cool!")]
    analysis = Analysis(
        assistant_facts=[
            ("The assistant recommends James to try out RPGs like that or MOBAs.", [1]),
            ("The assistant told the user about RPGs like that or MOBAs.", [1]),
        ]
    )
    ruled("misattributed", analysis, pages, "James")
    assert analysis.user_facts == [] and analysis.assistant_facts == []
    analysis = Analysis(
        assistant_facts=[
            ("The assistant recommends James to try out RPGs like that or MOBAs.", [1])
        ]
    )
    ruled("reported_plan", analysis, pages, "James")
    assert analysis.user_facts == [("James plans to try out RPGs like that or MOBAs.", [1])]


MAY_8 = 1_683_565_200.0  # Mon 8 May 2023, 17:00 UTC
DAYS = [
    (1, MAY_8, "Next month I'm flying to Oslo.", "Enjoy!"),
    (2, MAY_8 + 3600, "Yesterday I ran 10 km.", "Well done!"),
    (3, MAY_8 + 86_400, "Today I rested.", "Good."),
]


@pytest.mark.parametrize(
    ("fact", "cited", "stored"),
    [
        ("Mara plans to fly to Oslo next month.", [1],
         "Mara plans to fly to Oslo next month (June 2023)."),
        ("Mara ran 10 km yesterday.", [1, 2], "Mara ran 10 km yesterday (7 May 2023)."),  # one day
        ("Mara ran 10 km yesterday (7 May 2023).", [2], "Mara ran 10 km yesterday (7 May 2023)."),
        ("Mara ran 10 km yesterday.", [2, 3], "Mara ran 10 km yesterday."),  # two days: unknown
        ("Mara rested on 9 May 2023.", [3], "Mara rested on 9 May 2023."),
    ],
)  # fmt: skip
def test_a_relative_time_is_pinned_to_the_day_it_was_said(
    fact: str, cited: list[int], stored: str
) -> None:
    assert user_fact_after("pin_dates", fact, cited, DAYS) == [(stored, cited)]


def test_a_profile_value_with_a_relative_time_is_pinned_too() -> None:
    """The system message shows a profile value with no day: "Oslo next month" would be
    read as the month after the day it is read."""
    analysis = Analysis(profile=[("travel", "Oslo next month", [1]), ("city", "Porto", [1])])
    ruled("pin_dates", analysis, DAYS)
    assert analysis.profile == [
        ("travel", "Oslo next month (June 2023)", [1]),
        ("city", "Porto", [1]),
    ]


def test_who_did_it_is_weighed_without_the_names_the_sides_call_each_other() -> None:
    """ "Hey Mel!" puts Mel's name in the user's turn and "Caroline" sits in the user's own
    name: neither says who ran the race (the assistant did)."""
    pages = [(1, 0.0, "Hey Mel! Caroline here, what a week.", "I ran a charity race!")]
    analysis = Analysis(user_facts=[("Caroline told Mel about the charity race.", [1])])
    ruled("misattributed", analysis, pages, "Caroline")
    assert analysis.user_facts == [] and analysis.assistant_facts == []


STAMPED = [  # all said on Mon 8 May 2023, the day the model's excerpts are stamped with
    (1, MAY_8, "By the way, I met my new neighbor Anna yesterday! It was at yoga.", "Nice!"),
    (2, MAY_8, "I went hiking yesterday. I adopted a cat.", "Lovely!"),
    (3, MAY_8, "Last week I visited a place that holds memories: my mom's old house.", "Oh."),
    (4, MAY_8, "Today I adopted a cat named Miso.", "Cute!"),
    (5, MAY_8, "Yesterday I met Anna, and last week I met Anna's mother.", "Nice."),
    (6, MAY_8 + 86_400, "I met Anna at the park.", "Nice!"),
]


@pytest.mark.parametrize(
    ("fact", "cited", "stored"),
    [
        # dated with the day it was said, where the turn tells the event's own time
        ("Ines met Anna on Mon 8 May 2023 at yoga.", [1],
         "Ines met Anna yesterday (7 May 2023) at yoga."),
        ("Ines visited her mom's old house on Mon 8 May 2023.", [3],
         "Ines visited her mom's old house last week (the week before 8 May 2023)."),
        # the time told is of something else: "I went hiking yesterday."
        ("Ines adopted a cat on Mon 8 May 2023.", [2], "Ines adopted a cat on Mon 8 May 2023."),
        # "today" is the day it was said: the stamp is right
        ("Ines adopted Miso on Mon 8 May 2023.", [4], "Ines adopted Miso on Mon 8 May 2023."),
        # two times told of it: which one is unknown
        ("Ines met Anna on Mon 8 May 2023.", [5], "Ines met Anna on Mon 8 May 2023."),
        # pages of two days: the stamp could be either
        ("Ines met Anna on Mon 8 May 2023.", [1, 6], "Ines met Anna on Mon 8 May 2023."),
        # a date the model worked out, not the stamp
        ("Ines met Anna on 7 May 2023.", [1], "Ines met Anna on 7 May 2023."),
    ],
)  # fmt: skip
def test_a_fact_dated_with_its_stamp_gets_the_time_its_turn_tells(
    fact: str, cited: list[int], stored: str
) -> None:
    """Qwen 1.5B dated "Deborah met Anna" with the excerpt's stamp, "on Wed 1 February 2023",
    where Deborah had said "I met my new neighbor Anna yesterday!"."""
    assert user_fact_after("stamp_date", fact, cited, STAMPED) == [(stored, cited)]


KIN = [
    (1, 0.0, "Hey Jolene, my dad passed away two days ago. I'm trying to cope.", "So sorry."),
    (2, 0.0, "My dad and I went fishing on Sunday.", "Nice!"),
    (3, 0.0, "I went camping with my kids. My kids loved the lake.", "Fun!"),
    (4, 0.0, "My son Theo just turned six, and I'm learning Italian.", "Great!"),
    (5, 0.0, "My son Theo just turned six and I am learning Italian.", "Great!"),
]


@pytest.mark.parametrize(
    ("fact", "cited", "stored"),
    [
        # what the user said of someone of theirs, put on the user: that person's
        ("Deborah passed away on 25 January 2023.", [1],
         "Deborah's dad passed away on 25 January 2023."),
        ("Deborah loved the lake.", [3], "Deborah's kids loved the lake."),
        # the user's own: kept as it is
        ("Deborah is trying to cope.", [1], "Deborah is trying to cope."),
        ("Deborah went fishing on Sunday.", [2], "Deborah went fishing on Sunday."),  # "and I"
        ("Deborah went camping with her kids.", [3], "Deborah went camping with her kids."),
        # the user's own clause after the kin's (`memoryos chat`, Qwen 1.5B): the user's
        ("Lea is learning Italian.", [4], "Lea is learning Italian."),
        ("Lea is learning Italian.", [5], "Lea is learning Italian."),
        ("Lea just turned six.", [4], "Lea's son just turned six."),
        # another page's words do not count
        ("Deborah passed away.", [3], "Deborah passed away."),
    ],
)  # fmt: skip
def test_what_the_user_said_of_someone_of_theirs_is_about_them(
    fact: str, cited: list[int], stored: str
) -> None:
    name = "Lea" if fact.startswith("Lea") else "Deborah"
    assert user_fact_after("kin_statement", fact, cited, KIN, name) == [(stored, cited)]


@pytest.mark.parametrize(
    ("kind", "text", "after"),
    [
        ("user", "User is allergic to shellfish.", "The user is allergic to shellfish."),
        ("user", "User's sister Lena visits soon.", "The user's sister Lena visits soon."),
        ("assistant", "Assistant promised a recipe.", "The assistant promised a recipe."),
        ("user", "The user is allergic to shellfish.", "The user is allergic to shellfish."),
        ("user", "Users of the app like it.", "Users of the app like it."),  # not the role
        ("user", "Userland is a game she plays.", "Userland is a game she plays."),
    ],
)
def test_bare_role(kind: str, text: str, after: str) -> None:
    analysis = Analysis(**{f"{kind}_facts": [(text, [1])]})  # type: ignore[arg-type]
    ruled("bare_role", analysis, [(1, 0.0, text, "Ok.")])
    assert [t for t, _ in getattr(analysis, f"{kind}_facts")] == [after]


NOOR = [
    (1, 0.0, "Hi, I'm Noor. I teach chemistry at a high school in Leeds.", "Nice to meet you!"),
    (2, 0.0, "Actually, I moved from Leeds to York last month.", "How is York?"),
]


@pytest.mark.parametrize(
    ("attribute", "value", "pages", "after"),
    [
        # the last time the user names it, they say they left it: where they went instead
        ("city", "Leeds", NOOR, [("city", "York", [2])]),
        ("location", "Leeds", NOOR, [("location", "York", [2])]),
        ("city", "Leeds", [(1, 0.0, "I left Leeds in May.", "Oh!")], []),
        ("employer", "Acme", [(1, 0.0, "I quit my job at Acme last week.", "Wow.")], []),
        ("job", "teacher", [(1, 0.0, "I no longer work as a teacher.", "Ok.")], []),
        ("employer", "Acme", [(1, 0.0, "I used to work at Acme, now I'm freelance.", "Ok")], []),
        ("country", "Sweden", [(1, 0.0, "I moved from Sweden four years ago.", "Ok")], []),
        # kept: where they come from stays theirs; named again later as theirs; not left
        ("hometown", "Leeds", NOOR, [("hometown", "Leeds", [1])]),
        (
            "city",
            "Leeds",
            [*NOOR, (3, 0.0, "We moved back to Leeds, York was too quiet.", "Welcome back!")],
            [("city", "Leeds", [1])],
        ),
        ("city", "York", NOOR, [("city", "York", [2])]),
        (
            "job",
            "teacher",
            [(1, 0.0, "I'm a teacher who left the city.", "Ok")],
            [("job", "teacher", [1])],
        ),
        (
            "city",
            "Leeds",
            [(1, 0.0, "I left my keys in Leeds!", "Oh no")],
            [("city", "Leeds", [1])],
        ),
    ],
)
def test_a_place_or_job_the_user_says_they_left_is_not_theirs_now(
    attribute: str, value: str, pages: Pages, after: list
) -> None:
    cited = [1] if value != "York" else [2]
    analysis = Analysis(profile=[(attribute, value, cited)])
    ruled("left_behind", analysis, pages)
    assert analysis.profile == after


@pytest.mark.parametrize(
    ("stored", "reply", "pages", "after"),
    [
        # the model leaves the stored city as it is: the move names the new one
        (("city", "Leeds"), [], NOOR[1:], [("city", "York", [2])]),
        # its own new value stands
        (("city", "Leeds"), [("city", "York", [2])], NOOR[1:], [("city", "York", [2])]),
        # where they come from is not where they live; no place named; not left
        (("hometown", "Leeds"), [], NOOR[1:], []),
        (("city", "Leeds"), [], [(2, 0.0, "I left Leeds in May.", "Oh!")], []),
        (("city", "Leeds"), [], [(2, 0.0, "Leeds was lovely in May.", "Nice")], []),
    ],
)
def test_a_stored_city_the_user_moved_from_gives_way_to_the_new_one(
    stored: tuple[str, str], reply: list, pages: Pages, after: list
) -> None:
    attribute, value = stored
    analysis = Analysis(profile=list(reply))
    known = [SimpleNamespace(attribute=attribute, value=value)]
    notes = rules.moved_on(analysis, rules.Batch(pages, pages, known))
    assert analysis.profile == after
    assert [n.result for n in notes] == [f"city = {v}" for _, v, _ in after if not reply]


# LoCoMo conv-48, page 22, and conv-47, page 13: no turn says "assistant".
PETS = "Deborah: Cool, Jolene! Pets bring so much happiness!"
GAMING = "Jolene: Here's me and my partner gaming [shares a photo of a person laying in bed]"


@pytest.mark.parametrize(
    ("text", "said", "kept"),
    [
        ("Jolene is also a personal assistant.", GAMING, False),
        ("Jon is a personal assistant serving Gina.", GAMING, False),
        ("The assistant is an AI assistant.", GAMING, False),
        ("Jolene works as a personal assistant.", "I work as a personal assistant.", True),
        ("Jolene is a teaching assistant.", "I'm a teaching assistant now!", True),
        ("Jolene is the assistant's partner.", GAMING, True),  # a side, named by its role
        ("The assistant shared a photo of a person in bed.", GAMING, True),
        ("Jolene plays games with her partner.", GAMING, True),
    ],
)
def test_called_assistant(text: str, said: str, kept: bool) -> None:
    assert kept_facts("called_assistant", text, [(1, 0.0, PETS, said)]) is kept


@pytest.mark.parametrize(
    ("value", "said", "kept"),
    [
        ("personal assistant", GAMING, False),
        ("personal assistant", "I work as a personal assistant to a CEO.", True),
        ("nurse", GAMING, True),
    ],
)
def test_called_assistant_in_the_profile(value: str, said: str, kept: bool) -> None:
    analysis = Analysis(profile=[("job", value, [])])
    ruled("called_assistant", analysis, [(1, 0.0, PETS, said)])
    assert bool(analysis.profile) is kept


DEATHS = [
    (1, 0.0, "It was full of memories, she passed away a few years ago.", "Sorry for your loss."),
    (2, 0.0, "My grandma died last spring. I miss her.", "I'm so sorry."),
    (3, 0.0, "I lost my job and my cat died.", "Oh no."),
]


@pytest.mark.parametrize(
    ("fact", "cited", "kept"),
    [
        # the user is the one talking: a death put on them is someone else's
        ("Deborah passed away last year (2022).", [1], False),
        ("Deborah sadly passed away a few years ago.", [1], False),
        ("The user died last spring.", [2], False),
        ("Deborah has passed on.", [1], False),
        # a death the fact gives its person, or said of someone after the subject
        ("Deborah's grandma died last spring.", [2], True),
        ("Deborah said her mom passed away a few years ago.", [1], True),
        ("Deborah misses her grandma, who died last spring.", [2], True),
        ("Deborah lost her job.", [3], True),
        # someone else's name
        ("Rosa passed away a few years ago.", [1], True),
    ],
)  # fmt: skip
def test_a_fact_that_says_the_user_died_is_dropped(fact: str, cited: list[int], kept: bool) -> None:
    """Qwen 1.5B stored "Deborah passed away last year (2022)." from Deborah's words of her
    mother (LoCoMo conv-48)."""
    assert bool(user_fact_after("user_died", fact, cited, DEATHS, "Deborah")) is kept


def test_a_users_death_with_a_kin_named_is_given_that_kin_not_dropped() -> None:
    """`kin_statement` runs before `user_died`: "my grandma died" gives the fact its person."""
    analysis = Analysis(user_facts=[("Deborah died last spring.", [2])])
    profile = [SimpleNamespace(attribute="name", value="Deborah")]
    rules.apply_rules(analysis, rules.Batch(DEATHS, DEATHS, profile), rules.RULES)
    # (pin_dates then pins "last spring" to the page's day, 1970 here)
    assert [t.split(" (")[0] for t, _ in analysis.user_facts] == [
        "Deborah's grandma died last spring"
    ]


AGES = [
    (1, 0.0, "I've known these friends for 4 years, since I moved from my home country.", "Nice!"),
    (2, 0.0, "I'm 34 and I live in Oslo.", "Hi!"),
    (3, 0.0, "My son Milo just turned six!", "Happy birthday, Milo!"),
    (4, 0.0, "I am 3 months pregnant.", "Congratulations!"),
    (5, 0.0, "I turned sixteen last week!", "Happy birthday!"),
]


@pytest.mark.parametrize(
    ("fact", "cited", "stored"),
    [
        # an age no cited page says as one: the clause goes, or the fact when it is all
        ("Caroline is 4 years old and has known her friends for 4 years.", [1],
         ["Caroline has known her friends for 4 years."]),
        ("Caroline is 4 years old.", [1], []),
        ("Caroline is 3 years old.", [4], []),  # months, not years
        ("Caroline is 34 years old.", [1], []),  # another page says it
        # said as an age, in digits or in words
        ("Caroline is 34 years old.", [2], ["Caroline is 34 years old."]),
        ("Milo turned 6 years old.", [3], ["Milo turned 6 years old."]),
        ("Milo is six years old and loves dinosaurs.", [3],
         ["Milo is six years old and loves dinosaurs."]),
        ("Ana is 16 years old.", [5], ["Ana is 16 years old."]),
        # no age claimed
        ("Caroline has known her friends for 4 years.", [1],
         ["Caroline has known her friends for 4 years."]),
    ],
)  # fmt: skip
def test_an_age_no_page_says_is_taken_out(fact: str, cited: list[int], stored: list[str]) -> None:
    """Qwen 1.5B stored "Caroline is 4 years old and has known her friends for 4 years..."
    from "I've known these friends for 4 years" (LoCoMo conv-26)."""
    after = user_fact_after("unsaid_age", fact, cited, AGES, "Caroline")
    assert [t for t, _ in after] == stored
