"""The offline provider's text, written four times: once per audience level.

Each level's text is worded for its readers (elementary: short sentences and everyday words;
college: long sentences and academic vocabulary) so that the quality check's readability
measure lands inside the level's band for any topic. ``tests/providers/test_offline.py``
measures every content type at every level over several topics and fails when one drifts out.

Placeholders: ``{topic}`` and ``{Topic}`` (capitalised), and in podcast lines ``{a}`` (the first
host) and ``{b}`` (the second). Nothing else is a placeholder, so braces in a topic are safe.
"""

from __future__ import annotations

from dataclasses import dataclass

from lafactoria.content.enums import AudienceLevel


@dataclass(frozen=True, slots=True)
class Passage:
    """One part of the topic, reused by every content type.

    A study guide section is ``heading`` + ``body`` + ``extra``; a podcast asks ``question``
    and answers with ``body``, then asks ``follow_up`` and answers with ``extra``; flashcards
    pair ``question`` with ``short`` and ``follow_up`` with ``extra``.
    """

    heading: str
    question: str
    short: str
    body: str
    follow_up: str
    extra: str


@dataclass(frozen=True, slots=True)
class QuestionText:
    question: str
    correct: tuple[str, ...]
    """One choice for a single-answer question, two or more for a select-all question."""
    wrong: tuple[str, ...]
    explanation: str


@dataclass(frozen=True, slots=True)
class LevelText:
    guide_titles: tuple[str, ...]
    summaries: tuple[str, ...]
    passages: tuple[Passage, ...]
    """The first opens every guide and the last closes it."""
    key_terms: tuple[tuple[str, str], ...]
    extra_cards: tuple[tuple[str, str], ...]
    deck_titles: tuple[str, ...]
    questions: tuple[QuestionText, ...]
    quiz_titles: tuple[str, ...]
    podcast_titles: tuple[str, ...]
    roles: tuple[str, str]
    narrator_role: str
    welcome: tuple[str, str]
    """The hosts' opening lines."""
    goodbye: tuple[str, str]
    brief_welcome: str
    brief_goodbye: str
    sections: int
    key_term_count: int
    review_questions: int


ELEMENTARY = LevelText(
    guide_titles=("{Topic}: A First Look", "Let's Learn About {Topic}", "All About {Topic}"),
    summaries=(
        "This guide is all about {topic}. It tells you what it is and how it works. It gives "
        "you some important words to know. At the end, there are questions you can try.",
        "In this guide you will learn about {topic}. You will see the main parts and some real "
        "examples. Then you can test yourself with a few questions at the end.",
    ),
    passages=(
        Passage(
            heading="What is {topic}?",
            question="What is {topic}?",
            short="It is the big idea of this lesson, and it has a few different parts.",
            body="{Topic} is the big idea that we will learn about together. It has a few "
            "different parts. We will look at each part, one at a time. Then we will put all "
            "the parts back together again.",
            follow_up="How can you tell a friend what it is?",
            extra="Use your own words, and try to explain it in one or two short sentences.",
        ),
        Passage(
            heading="The main parts",
            question="What are the main parts of {topic}?",
            short="There are a few main parts, and each one is like a piece of a puzzle.",
            body="Each part is like a piece of a puzzle. One piece alone does not show very "
            "much. When you put the pieces together, you can see the whole picture. Try to "
            "give each piece a name.",
            follow_up="Why does it help to know all the parts?",
            extra="When you know the parts, the big idea is much easier to understand.",
        ),
        Passage(
            heading="How it works",
            question="How does {topic} work?",
            short="It happens in a few steps, and every step causes the next one.",
            body="Things happen in a few steps. One step makes the next step happen. If you "
            "remember the order, you can tell what will happen next. A simple picture of the "
            "steps can really help.",
            follow_up="What can help you remember the steps?",
            extra="Draw each step in a box. Then join the boxes together with arrows.",
        ),
        Passage(
            heading="{Topic} in real life",
            question="Where can you find {topic} in real life?",
            short="Look carefully at home, at school and outside, because real examples help you "
            "learn.",
            body="You can find it in real life, too. Look around your home or your school. "
            "Think about where it might show up. A real example makes a new idea much easier "
            "to remember.",
            follow_up="How can you find an example of your own?",
            extra="Look for it when you go for a walk. Then tell your class what you found.",
        ),
        Passage(
            heading="How we know",
            question="How do we know what is true about {topic}?",
            short="We look closely and test our ideas. Facts that we can check are called "
            "evidence.",
            body="People find things out by looking very carefully. They test their ideas "
            "again and again. Facts that we can check are called evidence. Good evidence "
            "helps us know what is really true.",
            follow_up="What can you do to check a fact?",
            extra="Ask where the fact came from. Then look for it in a good book.",
        ),
        Passage(
            heading="Tricky parts",
            question="What mistakes do people make about {topic}?",
            short="Some ideas sound right but are wrong, so always check the facts.",
            body="Some ideas sound right, but they are not true. That is okay, because "
            "everyone makes mistakes. Check your ideas with real facts. Ask your teacher "
            "whenever you are not sure.",
            follow_up="What should you do when you make a mistake?",
            extra="Fix it and then keep going, because mistakes can help you learn.",
        ),
        Passage(
            heading="How ideas grew",
            question="How did people learn about {topic} long ago?",
            short="They asked questions and looked closely, and their ideas slowly grew over time.",
            body="A long time ago, people had lots of questions. They looked around and asked "
            "each other. Little by little, they found out more. Today we know much more than "
            "they did.",
            follow_up="Can our ideas still change today?",
            extra="Yes. Whenever we discover new facts, we can change our minds.",
        ),
        Passage(
            heading="Why {topic} matters",
            question="Why do we learn about {topic}?",
            short="It helps us understand the world, and it links to other things we learn.",
            body="It helps us understand the world around us. It also links to many other "
            "things that you learn. The more you know, the more links you will find. Keep "
            "asking questions!",
            follow_up="What is one thing you want to know next?",
            extra="Choose one question. Then find the answer together with a friend.",
        ),
    ),
    key_terms=(
        ("Main idea", "The main idea is the most important point about a topic."),
        ("Part", "A part is one piece of a bigger idea, like one piece of a puzzle."),
        ("Step", "A step is one thing that happens before the next thing happens."),
        ("Example", "An example is a real thing that shows how an idea works."),
        ("Evidence", "Evidence means the facts that show if something is really true."),
        ("Mistake", "A mistake is an idea that seems right but turns out to be wrong."),
        ("Question", "A question is something you ask when you want to find out more."),
        ("Fact", "A fact is something that is true and that other people can check."),
        ("Test", "A test is a careful way to check if an idea really works."),
        ("Link", "A link is a way that two different ideas are connected."),
    ),
    extra_cards=(
        (
            "What is a good way to study {topic}?",
            "Learn a little bit every day. Then explain it to somebody else.",
        ),
        (
            "Who can help you learn about {topic}?",
            "A teacher, a parent or a good library book can help you.",
        ),
        (
            "What should you do if you get stuck?",
            "Ask a question, because it is always fine to ask for help.",
        ),
        (
            "How can you remember new words?",
            "Say them out loud. Then use them in a sentence of your own.",
        ),
        (
            "Why should you check facts?",
            "Some things that we hear or read are not really true.",
        ),
    ),
    deck_titles=("{Topic} Cards", "Flashcards: {Topic}", "Learn {Topic} with Cards"),
    questions=(
        QuestionText(
            "What is a good first step when you learn about {topic}?",
            ("Find the main idea",),
            ("Skip the new words", "Learn the hard part first", "Only look at the pictures"),
            "The main idea helps all the other facts make sense.",
        ),
        QuestionText(
            "Why do real examples help you learn?",
            ("They show the idea in real life",),
            ("They make the lesson long", "They take the place of facts", "They are just for fun"),
            "A real example shows how an idea works. That makes it easier to remember.",
        ),
        QuestionText(
            "Two books say different things. What should you do?",
            ("Check which one has good facts",),
            ("Pick the bigger book", "Trust the first one", "Stop reading both"),
            "Good facts are called evidence. They help you choose the right idea.",
        ),
        QuestionText(
            "How can you check that you understand {topic}?",
            ("Explain it in your own words",),
            ("Read the title again", "Copy the page", "Wait for the test"),
            "If you can explain it in your own words, you really understand it.",
        ),
        QuestionText(
            "Which habit helps you remember what you learn?",
            ("Practise a bit every day",),
            ("Study only the night before", "Read it once and stop", "Never ask questions"),
            "A little practice every day helps your brain remember what you learn.",
        ),
        QuestionText(
            "Which of these are good ways to learn? Pick all that are true.",
            ("Ask questions", "Draw what you learn"),
            ("Guess and never check", "Give up when it is hard"),
            "Asking questions and drawing pictures both help you learn. Guessing and giving "
            "up do not help.",
        ),
        QuestionText(
            "What should you do when you make a mistake?",
            ("Fix it and try again",),
            ("Hide it from your teacher", "Stop trying", "Say it was not you"),
            "Everyone makes mistakes, and they help us learn. Fix them and keep going.",
        ),
        QuestionText(
            "What is evidence?",
            ("Facts we can check",),
            ("A guess", "A story we like", "What most people say"),
            "Evidence means facts that you can check. It shows what is really true.",
        ),
    ),
    quiz_titles=(
        "Quiz: {Topic}",
        "{Topic}: Check What You Know",
        "How Much Do You Know About {Topic}?",
    ),
    podcast_titles=("Let's Talk About {Topic}", "{Topic} for Kids", "Fun Facts: {Topic}"),
    roles=("host", "co-host"),
    narrator_role="narrator",
    welcome=(
        "Hi, everyone, and welcome to our learning show! My name is {a}.",
        "And I'm {b}. Today we are going to talk about {topic}. Let's get started!",
    ),
    goodbye=(
        "That was really interesting! Thank you, {b}. What should our listeners remember?",
        "Tell somebody about one thing that you discovered today. Goodbye for now!",
    ),
    brief_welcome="Hi, my name is {a}. Today I am going to explain {topic} to you. Let's begin!",
    brief_goodbye="That is all for today. Remember to tell a friend about one thing that you "
    "discovered. Goodbye!",
    sections=4,
    key_term_count=5,
    review_questions=4,
)


MIDDLE_SCHOOL = LevelText(
    guide_titles=("{Topic}: A Study Guide", "Study Guide: {Topic}", "Understanding {Topic}"),
    summaries=(
        "This guide explains what {topic} is, how its main ideas fit together and where you "
        "can see them in everyday life. It ends with key words and review questions so you "
        "can check your understanding.",
        "In this guide you will explore {topic}, from its basic meaning to real examples. "
        "Along the way you will meet important vocabulary, and at the end you can test "
        "yourself with a few questions.",
    ),
    passages=(
        Passage(
            heading="What is {topic}?",
            question="What is {topic}, and what does the subject cover?",
            short="It is the subject of this guide: a set of connected ideas about one area of "
            "study.",
            body="{Topic} is the subject of this guide, and it is made up of several connected "
            "ideas. Before learning the details, it helps to understand what the subject "
            "covers and which questions it tries to answer. That way, every new fact has a "
            "clear place to fit.",
            follow_up="How could you explain {topic} in your own words?",
            extra="Try writing one or two sentences that would describe it clearly to a "
            "younger student.",
        ),
        Passage(
            heading="Main ideas",
            question="What are the main ideas behind {topic}?",
            short="A few important ideas that depend on each other, like the pieces of a puzzle.",
            body="The subject rests on a few main ideas that work together. Each idea explains "
            "one part of the picture, and some of the ideas depend on others. Once you see how "
            "the ideas connect, the details become much easier to remember.",
            follow_up="Why does it help to connect the main ideas to each other?",
            extra="Connected ideas support each other, so remembering one of them helps you "
            "recall the rest.",
        ),
        Passage(
            heading="How it works",
            question="How does {topic} actually work?",
            short="Through causes and effects, where one change leads to another in a certain "
            "order.",
            body="Much of the subject is about causes and their effects. One change leads to "
            "another, usually in a particular order. If you understand that order, you can "
            "explain what happened and even predict what will happen next.",
            follow_up="What is a good way to study a process with many steps?",
            extra="Make a flow chart with one box for each step and arrows that show what "
            "leads to what.",
        ),
        Passage(
            heading="Everyday examples",
            question="Where can you notice examples of {topic} in everyday life?",
            short="At home, at school and in news reports, once you understand what to look for.",
            body="You can find examples in everyday life, at home, at school and in the news. "
            "Real examples show how an idea works outside the textbook. They also make the "
            "idea easier to remember and to explain to other people.",
            follow_up="How can you discover an example of your own?",
            extra="Look for it during the week and write down exactly where and when you "
            "noticed it.",
        ),
        Passage(
            heading="Evidence",
            question="How do people know what is true about {topic}?",
            short="They collect evidence, such as observations and measurements, and test "
            "their ideas.",
            body="People learn what is true by collecting evidence, such as careful "
            "observations and measurements. They test their ideas and check whether the "
            "results match what they expected. When new evidence appears, good thinkers are "
            "willing to change their minds.",
            follow_up="How can you tell whether a source of information is reliable?",
            extra="Check who wrote it, what evidence they give and whether other trustworthy "
            "sources agree with it.",
        ),
        Passage(
            heading="Common mistakes",
            question="What are some common mistakes people make about {topic}?",
            short="People believe ideas that sound right but never check the facts.",
            body="Some popular ideas about the subject sound correct but turn out to be wrong. "
            "These mistakes are common because they seem to make sense at first. The best way "
            "to avoid them is to check every claim against the evidence.",
            follow_up="Why do mistaken ideas spread so easily from person to person?",
            extra="They often sound simple and believable, so people repeat them without "
            "stopping to check them.",
        ),
        Passage(
            heading="How ideas changed",
            question="How did ideas about {topic} change over time?",
            short="People gradually improved them, step by step, as they discovered new evidence.",
            body="Our understanding of the subject did not appear all at once. Over time, "
            "people asked new questions, tested older ideas and gradually improved them. "
            "Knowing this history shows that science and learning are always moving forward.",
            follow_up="Could our ideas about {topic} change again in the future?",
            extra="Yes, because new discoveries can always improve or correct what we know today.",
        ),
        Passage(
            heading="Why {topic} matters",
            question="Why is {topic} important to learn about?",
            short="It helps us understand the world, and it connects to many other school "
            "subjects.",
            body="The subject matters because it helps us understand the world around us. It "
            "also connects to many other subjects that you study at school. The more "
            "connections you notice, the more useful your knowledge becomes.",
            follow_up="What could you investigate next after learning about {topic}?",
            extra="Choose a question that interests you and research it together with a classmate.",
        ),
    ),
    key_terms=(
        ("Concept", "A main idea that helps to explain a whole group of related facts."),
        ("Cause", "Something that makes another thing happen, like heat causing ice to melt."),
        ("Effect", "The result of a cause, or what happens because something else happened."),
        ("Example", "A real situation that shows how a general idea works in practice."),
        (
            "Evidence",
            "Information, such as observations or measurements, that shows whether a claim "
            "is true.",
        ),
        ("Misconception", "A popular idea that sounds right but is actually incorrect."),
        ("Process", "A series of connected steps that happen in a particular order."),
        ("Source", "The place where information comes from, such as a book or a website."),
        ("Observation", "Something you notice by carefully watching, listening or measuring."),
        ("Claim", "A statement that someone says is true, which may or may not be supported."),
    ),
    extra_cards=(
        (
            "What is a good way to review {topic} before a test?",
            "Study a little each day and quiz yourself instead of simply rereading your notes.",
        ),
        (
            "How can a diagram help you learn a difficult topic?",
            "It shows how the different parts connect, which makes the whole idea easier to "
            "understand.",
        ),
        (
            "What should you do when two sources disagree?",
            "Compare the evidence that each source gives and decide which one is better supported.",
        ),
        (
            "Why is it useful to ask questions in class?",
            "Questions help you find the gaps in your understanding so that you can fill them.",
        ),
        (
            "How can you check your own understanding?",
            "Explain the idea to someone else without looking at your notes or the textbook.",
        ),
    ),
    deck_titles=("{Topic} Flashcards", "Flashcards: {Topic}", "{Topic}: Key Cards"),
    questions=(
        QuestionText(
            "What is the best first step when you start learning about {topic}?",
            ("Find out what the subject covers",),
            (
                "Memorise facts in random order",
                "Begin with the hardest details",
                "Read only the summary",
            ),
            "When you know what the subject covers, each new fact has a place to fit. That "
            "makes it easier to understand.",
        ),
        QuestionText(
            "Why are everyday examples useful when you study {topic}?",
            ("They show how ideas work in real life",),
            (
                "They replace the need for main ideas",
                "They make lessons longer",
                "They are only useful on tests",
            ),
            "Examples connect an idea to real situations, so the idea is easier to remember "
            "and explain.",
        ),
        QuestionText(
            "Two websites make different claims about {topic}. What should you do?",
            ("Compare the evidence each one gives",),
            (
                "Trust the one you read first",
                "Choose the one with more pictures",
                "Ignore both websites completely",
            ),
            "The better claim is the one with stronger evidence, not the one you happened to "
            "see first.",
        ),
        QuestionText(
            "Which activity best shows that you understand {topic}?",
            ("Explaining it to someone else",),
            ("Rereading your notes", "Highlighting the textbook", "Copying a definition"),
            "When you can explain an idea in your own words, you show real understanding and "
            "not just memory.",
        ),
        QuestionText(
            "Which study habit helps you remember the most?",
            ("Short practice sessions spread over time",),
            (
                "One long session the night before",
                "Reading the chapter once",
                "Listening without taking notes",
            ),
            "Practising a little on several different days helps your brain store "
            "information for longer.",
        ),
        QuestionText(
            "Which of these count as evidence? Select all that apply.",
            ("Careful measurements", "Recorded observations"),
            ("A popular opinion", "A guess that sounds right"),
            "Other people can check measurements and observations, but they cannot check an "
            "opinion or a guess.",
        ),
        QuestionText(
            "Why do some wrong ideas about {topic} spread so easily?",
            ("They sound believable at first",),
            (
                "They are always printed in textbooks",
                "Teachers tell students to repeat them",
                "Evidence proves them true",
            ),
            "Wrong ideas often sound simple and sensible, so people repeat them without "
            "checking the facts.",
        ),
        QuestionText(
            "What is a cause?",
            ("Something that makes another thing happen",),
            ("The result of an event", "A list of facts", "A type of diagram"),
            "A cause leads to an effect. When you know the causes, you can explain events and "
            "even predict them.",
        ),
    ),
    quiz_titles=("Quiz: {Topic}", "{Topic}: Check Your Understanding", "Test Yourself: {Topic}"),
    podcast_titles=("{Topic}, Explained", "Talking About {Topic}", "Inside {Topic}"),
    roles=("host", "co-host"),
    narrator_role="narrator",
    welcome=(
        "Welcome to the show, everyone. I'm {a}, and today we are exploring {topic}, one "
        "important idea at a time.",
        "And I'm {b}. I'm excited about this episode, because there is so much to discover "
        "about this subject.",
    ),
    goodbye=(
        "Thanks, {b}. Do you have any final advice for our listeners before we finish?",
        "Try explaining one idea from today's episode to a friend or a family member. "
        "Thanks for listening, everyone!",
    ),
    brief_welcome="Hello, I'm {a}, and in this short episode I will explain the most "
    "important ideas about {topic}.",
    brief_goodbye="That completes our brief look at {topic}. Try explaining one important "
    "idea to a friend or classmate. Thanks for listening!",
    sections=5,
    key_term_count=6,
    review_questions=5,
)


HIGH_SCHOOL = LevelText(
    guide_titles=("{Topic}: A Study Guide", "Understanding {Topic}", "{Topic}: Key Concepts"),
    summaries=(
        "This guide surveys {topic}, setting out its central ideas, the reasoning that "
        "connects them and the situations where they apply. It closes with key terms and "
        "review questions that you can use to test yourself.",
        "This guide looks at {topic} from its definition to its uses in the real world. It "
        "traces how the core concepts relate to one another and ends with key terms and "
        "questions that check your understanding.",
    ),
    passages=(
        Passage(
            heading="Defining {topic}",
            question="How would you define {topic}, and what does that definition leave out?",
            short="By stating what the subject covers, what it deliberately excludes and which "
            "fundamental questions it attempts to answer.",
            body="A good working definition of {topic} states what the subject covers, what it "
            "leaves out and which questions it tries to answer. Setting out that scope at the "
            "start keeps later ideas from being learned as a list of isolated facts.",
            follow_up="Why is it important for a definition of {topic} to be precise?",
            extra="A precise definition lets you decide whether a particular case belongs to "
            "the subject or falls outside it.",
        ),
        Passage(
            heading="Core concepts",
            question="What are the core concepts of {topic}, and how are they related?",
            short="A small number of interrelated concepts, several of which depend on one "
            "another.",
            body="The subject rests on a small number of core concepts, and each one explains "
            "part of the whole. The links between them, especially which concepts depend on "
            "others, matter just as much as the definitions themselves.",
            follow_up="How can you represent the relationships between the different concepts?",
            extra="A concept map, with labelled arrows between related ideas, makes these "
            "links visible and easier to study.",
        ),
        Passage(
            heading="Causes and processes",
            question="Which causes and processes explain the main features of {topic}?",
            short="Chains of cause and effect that only work under certain conditions.",
            body="Understanding the subject means tracing how one change leads to another. "
            "When you can name the causes, the effects and the conditions they need, you can "
            "explain what you observe and predict what will happen, rather than just describe "
            "it.",
            follow_up="Why do simple, single-cause explanations sometimes fail to account for "
            "results?",
            extra="Several causes often act at the same time, and together they can produce "
            "results that no single cause would explain.",
        ),
        Passage(
            heading="Applications",
            question="How are the principles of {topic} applied in practical situations?",
            short="Its principles are used to explain real cases and to solve practical problems.",
            body="Applications show how the principles work outside the textbook. Working "
            "through real cases tests whether a definition is precise enough to use, and it "
            "often reveals details that a short summary would hide.",
            follow_up="What makes a comparison between two particular cases especially "
            "informative?",
            extra="Comparing two cases that differ in only one way helps you find the factor "
            "that caused the difference in their results.",
        ),
        Passage(
            heading="Evidence and methods",
            question="What kinds of information count as reliable evidence about {topic}?",
            short="Observations, measurements and test results that other people can check.",
            body="Claims about the subject are supported by evidence such as careful "
            "observations, measurements and the results of experiments. Strong conclusions "
            "depend on methods that others can repeat and on data that could, in principle, "
            "show the claim to be wrong.",
            follow_up="Why does it matter whether other researchers can repeat the results?",
            extra="Repeated results show that a finding is real, rather than a mistake, a "
            "coincidence or the bias of one researcher.",
        ),
        Passage(
            heading="Common misconceptions",
            question="Which misconceptions about {topic} are common among students?",
            short="Beliefs that seem sensible at first but fail when they are tested against "
            "evidence.",
            body="Several beliefs about the subject seem sensible at first but turn out to be "
            "wrong when they are examined closely. Testing each claim against evidence, and "
            "asking what result would prove it wrong, is the best way to catch these errors.",
            follow_up="Why do misconceptions often survive even after they are corrected?",
            extra="Many misconceptions work well enough in everyday life, so they survive until "
            "a case shows where they break down.",
        ),
        Passage(
            heading="How understanding developed",
            question="How has our understanding of {topic} developed over time?",
            short="Through questions, evidence and debate that slowly improved earlier ideas.",
            body="Our current understanding developed slowly as people questioned earlier "
            "explanations and gathered new evidence. Many ideas that once seemed obvious were "
            "later revised, which shows that knowledge in any field stays open to "
            "improvement.",
            follow_up="What can the history of {topic} teach us about scientific knowledge?",
            extra="It shows how evidence and argument, rather than authority, changed which "
            "explanations people accepted.",
        ),
        Passage(
            heading="Why it matters",
            question="Why is {topic} considered significant beyond the classroom?",
            short="It connects to other subjects and helps people make practical decisions.",
            body="The subject connects to other fields and to practical decisions in everyday "
            "life. Seeing those connections explains why it is studied, and it makes the "
            "concepts easier to apply to problems that you have not met before.",
            follow_up="How can you transfer what you learn about {topic} to unfamiliar problems?",
            extra="Find the general principle behind a solved example, then look for the same "
            "pattern in a problem that looks different.",
        ),
    ),
    key_terms=(
        (
            "Concept",
            "An abstract idea that organises a group of related facts and observations into a "
            "meaningful whole.",
        ),
        (
            "Mechanism",
            "The process by which one change in a system produces another change, often through "
            "several intermediate steps.",
        ),
        (
            "Application",
            "A real situation in which general principles are used to explain an observation or "
            "solve a practical problem.",
        ),
        (
            "Evidence",
            "Observations, measurements or experimental data that either support or challenge a "
            "particular claim.",
        ),
        (
            "Misconception",
            "A common belief that seems sensible at first but turns out to be inaccurate when it "
            "is tested.",
        ),
        (
            "Model",
            "A simplified version of something, used to explain or predict how it behaves.",
        ),
        (
            "Hypothesis",
            "A testable explanation that predicts what we should observe under particular "
            "conditions.",
        ),
        (
            "Variable",
            "A factor that can change during an investigation and that may influence the outcome.",
        ),
        (
            "Correlation",
            "A pattern in which two things change together, which does not prove that one "
            "causes the other.",
        ),
        (
            "Reliability",
            "How consistent the results of a measurement remain when it is repeated under similar "
            "conditions.",
        ),
    ),
    extra_cards=(
        (
            "How should you test a claim about {topic}?",
            "Ask what evidence would show it to be false, then go and look for that evidence.",
        ),
        (
            "Why is testing yourself better than rereading?",
            "Recalling information makes memories stronger, because your brain has to "
            "rebuild the knowledge.",
        ),
        (
            "How is correlation different from causation?",
            "Correlation means two things change together; causation also needs a mechanism "
            "and a fair comparison.",
        ),
        (
            "How can you judge a source you do not know?",
            "Consider the author's expertise, the evidence they give and whether other "
            "sources agree.",
        ),
        (
            "Why do scientists change their conclusions?",
            "New evidence or better methods can show the limits of explanations that once "
            "seemed good enough.",
        ),
    ),
    deck_titles=("{Topic} Flashcards", "{Topic}: Key Concepts", "Review Cards: {Topic}"),
    questions=(
        QuestionText(
            "Which approach gives the best foundation for studying {topic}?",
            ("Building a precise definition and finding the core concepts",),
            (
                "Memorising separate facts before seeing how they connect",
                "Starting with the rarest special cases",
                "Trusting a single summary without checking it",
            ),
            "A clear definition and its core concepts give later details a structure to "
            "attach to, which helps you understand and remember them.",
        ),
        QuestionText(
            "What is the main value of working through real applications of {topic}?",
            ("They test whether the principles explain real cases",),
            (
                "They remove the need to understand the principles",
                "They make explanations longer and more detailed",
                "They show that theory and practice are unrelated",
            ),
            "Applying principles to real cases exposes vague definitions and hidden "
            "assumptions that a short summary can hide.",
        ),
        QuestionText(
            "Two trusted sources make conflicting claims about {topic}. What is the most "
            "reasonable response?",
            ("Compare the evidence and methods behind each claim",),
            (
                "Accept whichever source is more recent",
                "Assume the truth lies halfway between them",
                "Reject both sources completely",
            ),
            "Conflicts are settled by the quality of the evidence and methods, not by which "
            "claim is newer, by splitting the difference or by rejecting both.",
        ),
        QuestionText(
            "Which activity gives the strongest evidence that you understand {topic}?",
            ("Solving a problem you have not seen before",),
            (
                "Rereading your notes until they feel familiar",
                "Highlighting key sentences in the textbook",
                "Recognising the terms when you see them",
            ),
            "Using your knowledge on a new problem requires real understanding, while a "
            "feeling of familiarity is easy to mistake for it.",
        ),
        QuestionText(
            "What is the most reliable way to test a claim about {topic}?",
            ("Look for evidence that could prove it wrong",),
            (
                "Collect only the examples that support it",
                "Count how many people already believe it",
                "Accept it if it seems to make sense",
            ),
            "Searching for evidence against a claim protects you from confirmation bias; "
            "popularity and gut feeling are not evidence.",
        ),
        QuestionText(
            "Which of these make a scientific conclusion stronger? Select all that apply.",
            ("Other researchers repeating the results", "A fair, controlled comparison"),
            ("The fame of a single researcher", "A large number of personal stories"),
            "Repeated results and controlled comparisons rule out errors and other "
            "explanations, but fame and personal stories do not.",
        ),
        QuestionText(
            "Why do misconceptions about {topic} often last so long?",
            ("They work well enough in everyday situations",),
            (
                "They have the strongest evidence behind them",
                "Experts teach them to beginners on purpose",
                "They can never be tested",
            ),
            "Misconceptions survive because they are useful in familiar situations, so people "
            "rarely meet the cases where they fail.",
        ),
        QuestionText(
            "What does a correlation between two variables show?",
            ("That the two variables change together",),
            (
                "That one variable causes the other",
                "That the pattern will never change",
                "That both variables share one cause",
            ),
            "A correlation shows that two variables change together; proving that one causes "
            "the other also requires a mechanism and a controlled test.",
        ),
    ),
    quiz_titles=("Quiz: {Topic}", "{Topic}: Check Your Understanding", "Assessment: {Topic}"),
    podcast_titles=("{Topic}, Explained", "Talking About {Topic}", "A Closer Look at {Topic}"),
    roles=("host", "guest expert"),
    narrator_role="presenter",
    welcome=(
        "Welcome to the programme. I'm {a}, and in this episode we will examine {topic}: its "
        "central concepts, the evidence behind them and the ways they are applied.",
        "Thanks for having me. I'm {b}, and {topic} is a subject I really enjoy explaining, "
        "because its concepts connect to so many other areas of study.",
    ),
    goodbye=(
        "{b}, if our listeners remember only one piece of advice from this discussion, what "
        "should it be?",
        "Apply the concepts to a problem you have not encountered before, because that "
        "demonstrates genuine understanding far better than rereading your notes.",
    ),
    brief_welcome="Welcome. I'm {a}, and in this short briefing I will explain the central "
    "concepts of {topic}, summarise the evidence that supports them and describe several "
    "important applications.",
    brief_goodbye="That concludes this briefing on {topic}. To consolidate your understanding, "
    "apply one of these concepts to an unfamiliar problem and evaluate whether the "
    "explanation still holds.",
    sections=5,
    key_term_count=6,
    review_questions=5,
)


COLLEGE = LevelText(
    guide_titles=(
        "{Topic}: Concepts, Evidence and Interpretation",
        "{Topic}: An Analytical Study Guide",
        "Understanding {Topic}: A Critical Overview",
    ),
    summaries=(
        "This guide offers an analytical overview of {topic}: its central concepts, the "
        "mechanisms that connect them, the evidence behind its main claims and the debates "
        "that remain open. It closes with essential terminology and questions for critical "
        "self-assessment.",
        "This guide examines {topic} systematically, moving from questions of definition "
        "through causal mechanisms and empirical evidence to unresolved theoretical debates, "
        "with the emphasis on conceptual understanding and the evaluation of evidence rather "
        "than on the recall of isolated facts.",
    ),
    passages=(
        Passage(
            heading="Defining the field",
            question="How should {topic} be defined, and what does any definition leave out?",
            short="By stating which phenomena, questions and methods it covers, while "
            "recognising that its boundaries are contested.",
            body="A rigorous definition of {topic} specifies the phenomena it covers, the "
            "questions it addresses and the methods considered appropriate to it. Because "
            "these boundaries are themselves contested, it is worth separating the features "
            "that most accounts treat as essential from those that reflect disciplinary "
            "convention or historical accident.",
            follow_up="Why do disagreements about how to define {topic} matter?",
            extra="The choice of definition determines which evidence counts as relevant, "
            "which explanations seem adequate and, in turn, which research questions receive "
            "attention and funding.",
        ),
        Passage(
            heading="Core concepts",
            question="What are the core concepts of {topic}, and how are they related?",
            short="A small set of interdependent concepts whose logical relationships give the "
            "field its structure.",
            body="The field rests on a relatively small number of core concepts, each of which "
            "explains one dimension of the phenomenon. The logical relationships between them, "
            "especially relations of dependence and presupposition, matter as much as the "
            "concepts themselves, since misunderstanding one usually distorts the "
            "interpretation of the others.",
            follow_up="How does the interdependence of these concepts affect learning?",
            extra="Because the core concepts presuppose one another, memorising their "
            "definitions separately rarely produces a genuine understanding of what they "
            "explain together.",
        ),
        Passage(
            heading="Causal mechanisms",
            question="Which causal mechanisms account for the phenomena associated with {topic}?",
            short="Interacting causal processes whose effects depend on conditions that can be "
            "specified.",
            body="Explanation in this domain requires identifying the causal mechanisms "
            "through which particular conditions produce observable outcomes. Where several "
            "mechanisms operate at once, their interaction can produce emergent behaviour that "
            "no single mechanism would predict, which is why single-cause accounts often fail "
            "under empirical scrutiny.",
            follow_up="Why do single-cause explanations so often prove inadequate?",
            extra="They neglect interaction effects and dependence on context, and so they "
            "mistake one contributing factor for a sufficient explanation of a complex "
            "phenomenon.",
        ),
        Passage(
            heading="Case analysis",
            question="What does the analysis of particular cases contribute to our "
            "understanding of {topic}?",
            short="It tests whether general principles are precise enough to explain concrete "
            "situations.",
            body="The systematic analysis of particular cases tests whether general principles "
            "are precise enough to explain concrete situations. Comparison is especially "
            "informative when two cases differ in a single theoretically relevant respect, "
            "because it isolates the variable responsible for their different outcomes rather "
            "than leaving several explanations equally plausible.",
            follow_up="What are the methodological limitations of case analysis?",
            extra="A single case rarely supports a confident generalisation, because "
            "unobserved features of its context may account for relationships that appear to "
            "be systematic.",
        ),
        Passage(
            heading="Evidence and method",
            question="Which methodological standards govern evidence about {topic}?",
            short="Replicability, falsifiability and the systematic control of confounding "
            "variables.",
            body="Empirical claims in this area are judged by methodological standards that "
            "include replicability, the control of confounding variables and the "
            "falsifiability of the hypotheses being tested. Conclusions drawn from "
            "observational data call for particular caution, since a correlation alone cannot "
            "establish causation without an independently supported mechanism.",
            follow_up="Why does replication play such a central role in evaluating evidence?",
            extra="Independent replication separates genuine regularities from statistical "
            "artefacts, methodological quirks and the unconscious biases of individual "
            "researchers.",
        ),
        Passage(
            heading="Persistent misconceptions",
            question="Why do misconceptions about {topic} persist despite contrary evidence?",
            short="They work as serviceable approximations in ordinary experience, which hides "
            "their limitations.",
            body="Several intuitively plausible beliefs about the subject prove inaccurate "
            "under systematic examination. Such misconceptions persist partly because they "
            "work as serviceable approximations in ordinary experience, so correcting them "
            "requires showing precisely where the approximation fails rather than simply "
            "asserting the accepted account.",
            follow_up="Which teaching strategy addresses misconceptions most effectively?",
            extra="Presenting learners with carefully chosen anomalous cases, which the "
            "misconception cannot accommodate, tends to produce more durable conceptual change "
            "than direct correction.",
        ),
        Passage(
            heading="Historical development",
            question="How has scholarly understanding of {topic} developed over time?",
            short="Through successive revisions driven by anomalous evidence, new methods and "
            "theoretical debate.",
            body="Current understanding emerged through successive revisions, as anomalous "
            "evidence, methodological innovation and theoretical controversy undermined "
            "explanations that had once seemed authoritative. Knowing this history explains "
            "why present debates are framed as they are, and it cautions against treating the "
            "current consensus as final.",
            follow_up="Which interpretive debates about {topic} remain unresolved?",
            extra="Specialists still disagree about how several of the core concepts should be "
            "interpreted, and these disagreements offer a productive way into the current "
            "research literature.",
        ),
        Passage(
            heading="Significance and connections",
            question="What is the broader intellectual significance of {topic}?",
            short="It informs neighbouring disciplines and practical decisions, and its "
            "principles transfer to other problems.",
            body="The significance of the subject extends beyond its immediate domain, "
            "informing neighbouring disciplines, public policy and practical decisions. "
            "Recognising these connections clarifies why the field attracts sustained "
            "scholarly attention, and it helps learners transfer its principles to problems "
            "that share its structure but look unfamiliar.",
            follow_up="How can principles from {topic} be transferred to unfamiliar problems?",
            extra="Transfer requires abstracting the underlying structure of a solved problem "
            "and then recognising that structure beneath the different surface features of a "
            "new situation.",
        ),
    ),
    key_terms=(
        (
            "Conceptual framework",
            "An organised system of related concepts that structures how phenomena are "
            "interpreted.",
        ),
        (
            "Causal mechanism",
            "The specific process through which a change in one variable produces a change in "
            "another.",
        ),
        (
            "Falsifiability",
            "The property of a hypothesis whereby some conceivable observation could show it "
            "to be false.",
        ),
        (
            "Confounding variable",
            "An unmeasured factor that influences both the presumed cause and the effect, "
            "producing a misleading association.",
        ),
        (
            "Replicability",
            "The extent to which independent researchers can reproduce a finding using "
            "comparable methods.",
        ),
        (
            "Emergent behaviour",
            "Properties of a system that arise from interactions among its components and "
            "that no single component shows.",
        ),
        (
            "Historiography",
            "The study of how interpretations of a subject have developed and been contested "
            "over time.",
        ),
        (
            "Operationalisation",
            "The specification of the procedures through which an abstract concept is "
            "measured empirically.",
        ),
        (
            "Epistemic humility",
            "The recognition that current consensus remains provisional and open to revision.",
        ),
        (
            "Parsimony",
            "The methodological preference for explanations that rely on the fewest "
            "unsupported assumptions.",
        ),
    ),
    extra_cards=(
        (
            "How should a claim about {topic} be evaluated critically?",
            "By identifying the observations that would falsify it and checking whether "
            "rigorous attempts at falsification have failed.",
        ),
        (
            "Why is retrieval practice more effective than rereading?",
            "Retrieval requires the active reconstruction of knowledge, which consolidates "
            "memory and exposes gaps that passive rereading conceals.",
        ),
        (
            "What distinguishes explanation from description?",
            "Explanation identifies the mechanisms that generate a phenomenon, which supports "
            "prediction and counterfactual reasoning rather than mere characterisation.",
        ),
        (
            "Why should the current scholarly consensus be treated as provisional?",
            "History shows that authoritative explanations are periodically overturned by "
            "anomalous evidence and methodological innovation.",
        ),
        (
            "What makes a comparative analysis rigorous?",
            "It compares cases that differ in a single theoretically relevant variable, which "
            "permits inferences about that variable's causal contribution.",
        ),
    ),
    deck_titles=(
        "{Topic}: Advanced Review",
        "{Topic}: Concepts and Terminology",
        "Critical Review Cards: {Topic}",
    ),
    questions=(
        QuestionText(
            "Which approach provides the most defensible foundation for the systematic study "
            "of {topic}?",
            (
                "Establishing the scope of the field and how its core concepts depend on one "
                "another",
            ),
            (
                "Accumulating isolated facts before considering how they relate",
                "Prioritising specialised exceptions over general principles",
                "Relying on authoritative summaries without evaluating them",
            ),
            "A precise scope and an appreciation of how the core concepts depend on one "
            "another provide the framework within which later information becomes meaningful.",
        ),
        QuestionText(
            "What is the main contribution of comparative case analysis to the study of {topic}?",
            ("Isolating the causal contribution of a single variable",),
            (
                "Removing the need for theoretical principles",
                "Guaranteeing that findings generalise to every population",
                "Showing that theoretical considerations are irrelevant",
            ),
            "Comparing cases that differ in a single theoretically relevant respect supports "
            "an inference about that variable's contribution to their different outcomes.",
        ),
        QuestionText(
            "Two methodologically sound studies reach contradictory conclusions about "
            "{topic}. Which response is most defensible?",
            ("Examining the methods, samples and measures of each study",),
            (
                "Preferring whichever study was published more recently",
                "Averaging the two conclusions to produce a compromise",
                "Rejecting empirical research on the question altogether",
            ),
            "Contradictory findings are resolved by evaluating their methods, not by recency, "
            "arithmetic compromise or wholesale scepticism.",
        ),
        QuestionText(
            "Which performance is the strongest evidence of a genuine understanding of {topic}?",
            ("Transferring its principles to an unfamiliar problem",),
            (
                "Reproducing definitions word for word from memory",
                "Recognising terminology met during earlier study",
                "Feeling fluent when rereading annotated notes",
            ),
            "Successful transfer requires abstracting the underlying structure, whereas "
            "recognition and fluency are easily mistaken for comprehension.",
        ),
        QuestionText(
            "Which procedure tests a hypothesis about {topic} most rigorously?",
            ("Deliberately seeking observations that could falsify it",),
            (
                "Collecting only the instances that confirm it",
                "Surveying how widely the hypothesis is believed",
                "Accepting it because it seems intuitively compelling",
            ),
            "Attempted falsification counteracts confirmation bias, while popularity and "
            "intuitive plausibility carry no evidential weight.",
        ),
        QuestionText(
            "Which considerations legitimately strengthen an empirical conclusion? Select all "
            "that apply.",
            (
                "Independent replication using comparable methods",
                "Systematic control of confounding variables",
            ),
            (
                "The institutional prestige of the researchers",
                "A large collection of unsystematic anecdotes",
            ),
            "Replication and the control of confounding variables address error and "
            "alternative explanations, whereas prestige and anecdote carry no evidential "
            "weight.",
        ),
        QuestionText(
            "Why do misconceptions about {topic} often resist direct correction?",
            ("They work as serviceable approximations in ordinary experience",),
            (
                "They are supported by the most rigorous evidence available",
                "Specialists deliberately teach them for convenience",
                "They cannot be investigated empirically at all",
            ),
            "Misconceptions survive because their limitations stay invisible in familiar "
            "contexts, so durable conceptual change requires confronting anomalous cases.",
        ),
        QuestionText(
            "What may legitimately be inferred from a robust correlation between two variables?",
            ("That their values vary together systematically",),
            (
                "That one variable necessarily causes the other",
                "That the relationship holds under every condition",
                "That all confounding variables have been excluded",
            ),
            "Covariation alone cannot establish causation; a causal inference also requires "
            "an identified mechanism and the exclusion of confounding explanations.",
        ),
    ),
    quiz_titles=(
        "{Topic}: Critical Assessment",
        "Examination Questions: {Topic}",
        "{Topic}: Conceptual Evaluation",
    ),
    podcast_titles=(
        "{Topic}: Concepts and Controversies",
        "Rethinking {Topic}",
        "{Topic} in Depth",
    ),
    roles=("host", "guest scholar"),
    narrator_role="lecturer",
    welcome=(
        "Welcome to the programme. I'm {a}, and this episode offers an analytical "
        "examination of {topic}, its conceptual foundations and its unresolved controversies.",
        "Thank you for the invitation. I'm {b}, and I find {topic} particularly rewarding to "
        "discuss, precisely because its conceptual foundations remain genuinely contested.",
    ),
    goodbye=(
        "{b}, what methodological advice would you offer listeners who intend to pursue this "
        "subject independently?",
        "Treat every authoritative explanation as provisional, evaluate the evidence "
        "systematically, and test your understanding by transferring principles to "
        "unfamiliar problems. Thank you for listening.",
    ),
    brief_welcome="Welcome. I'm {a}, and this briefing offers a concise analytical "
    "examination of {topic}, its conceptual foundations and its principal controversies.",
    brief_goodbye="This concludes our analytical briefing on {topic}. Treat the current "
    "consensus as provisional, and evaluate each explanation according to the evidence that "
    "supports it.",
    sections=6,
    key_term_count=7,
    review_questions=6,
)


LEVELS: dict[AudienceLevel, LevelText] = {
    AudienceLevel.ELEMENTARY: ELEMENTARY,
    AudienceLevel.MIDDLE_SCHOOL: MIDDLE_SCHOOL,
    AudienceLevel.HIGH_SCHOOL: HIGH_SCHOOL,
    AudienceLevel.COLLEGE: COLLEGE,
}

HOST_NAMES = (
    ("Maya", "Leo"),
    ("Ana", "Sam"),
    ("Priya", "Tom"),
    ("Kofi", "Lena"),
    ("Sofia", "Jamal"),
)
