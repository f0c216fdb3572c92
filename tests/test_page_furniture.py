"""A post copied with its page: the site's furniture is not the student's words (bot/search/reading/page_furniture.py),
nor are other people's replies and messages (bot/search/reading/bylines.py)."""

import pytest

from bot.search.reading.bylines import chat_messages, thread_byline
from bot.search.reading.focus import read_post
from bot.search.reading.page_furniture import (
    asked_in_form,
    furniture_lines,
    is_furniture,
    starts_the_page,
)
from bot.search.reading.prose import prose_of

QUESTION = "Why does my backward pass have to follow reverse topological order instead of a plain DFS?"


@pytest.mark.parametrize("line", [
    "Asked 3 years, 1 month ago",
    "Viewed 9k times",
    "Share Improve this question Follow",
    "Share • Edit • Follow • Flag",
    "edited Feb 9, 2023 at 8:14",
    "4 gold badges 31 silver badges 60 bronze badges",
    "2 Likes · Reply",
    "created May '22 · last reply Jun '22 · 6 replies · 840 views",
    "Posted by u/quiet_student 2 years ago",
    "r/learnmachinelearning",
    "Add a comment",
    "Did you normalise the inputs? – ravenfeather Oct 3, 2021 at 14:07",
    "This topic was automatically closed 14 days after the last reply.",
    "PyTorch version: 2.0.1",
    "Is CUDA available: True",
    "numpy==1.26.0",
    "screenshot_training.png 1024×768 88.1 KB",
    "[image: loss_curve.png]",
    "_No response_",
    "### Expected behavior",
    "**To Reproduce**",
    "2024-03-01 10:22:31.551: W tensorflow/core/framework/op_kernel.cc:1830] OOM",
    " 42%|████▏     | 420/1000 [00:21<00:29, 19.6it/s]",
    "Forums › Course 2 › Week 3",
    "Home / Categories / Part 2 (2023) / Lesson 7 official topic",
    "edited Mar 2 at 14:05 by Community Bot",
    "Tags: #optimization #adam",
    "4 min read",
    "• Loss goes NaN after a few steps — Beginners — 6 — Aug 2024",
    "Why is my val loss flat?\tvision\t2\t311\tMar 2023",
    "Using GPU in script?: yes",  # a form's question, answered
    "The above exception was the direct cause of the following exception:",
    "Segmentation fault (core dumped)",
    "[LightGBM] [Warning] No further splits with positive gain, best gain: -inf",
    "WARNING:tensorflow:Callback method on_train_batch_end is slow",
    "***** Running training *****",
    "arrow_drop_up 12 more_vert",
    "Could you post the shapes? – Ana K.♦ Apr 11 at 16:05",
    "What's the architecture? – tmoreau Nov 17 '20 at 9:02",  # an earlier year, short
    "This question already has an answer here:",
    "Why is the loss NaN with fp16? (2 answers)",
    "Want to improve this question? Add details and clarify the problem by editing this post.",
    # the site's own name, at the top of a whole page's copy or in its footer
    "Cross Validated", "Stack Overflow", "Data Science Stack Exchange", "PyTorch Forums", "fast.ai Course Forums",
    "DeepLearning.AI Community",
])
def test_a_line_the_page_printed_is_furniture(line: str) -> None:
    assert is_furniture(line)


@pytest.mark.parametrize("line", [
    QUESTION,
    "Backprop help",  # a title with one chrome word and nothing counted
    "Question about KL divergence",
    "I asked this on the forum 2 days ago but nobody answered.",
    "Should I share the weights between the two heads?",
    "My answer was to use log base 2, is that right?",
    "Follow-up question: does the order change the gradients at all?",
    "What have you tried so far, and which version of PyTorch is it?",
    "p_i = softmax(z)_i",
    "train / val / test split",  # slashes without a site word: the student's
    "I tried lr 0.1 — 0.01 — 0.001 and none of them converged",
    "we met at 10:30 after the lecture to go over the derivation",
    "Question for the community",  # a phrase, not a site's name
    "Thanks to the community",
])
def test_the_students_own_lines_are_not_furniture(line: str) -> None:
    assert not is_furniture(line)


def test_a_tag_list_or_a_name_counts_only_beside_furniture() -> None:
    lines = ["Some text the student wrote.", "", "neural-networks pytorch", "Share Follow", "asked 3 hours ago",
             "kiwi_coder", "3 bronze badges"]
    assert furniture_lines(lines) == [False, False, True, True, True, True, True]
    # The same short lines inside the post, with no furniture around them, are the student's.
    alone = ["neural-networks pytorch", "", "kiwi_coder", "", QUESTION]
    assert furniture_lines(alone) == [False, False, False, False, False]
    # A question typed in lower case with no mark looks like tags, but its words join a sentence.
    form = ["### Describe the question", "", "what is early stopping", "", "### What have you tried?"]
    assert furniture_lines(form) == [True, False, False, False, True]
    # A handle right under the page's header line is the asker's name; a title there is not.
    header = ["r/MLQuestions • 8 mo. ago", "nervous_newbie", "", QUESTION]
    assert furniture_lines(header) == [True, True, False, False]
    titled = ["r/MLQuestions • 8 mo. ago", "Backprop order help", "", QUESTION]
    assert furniture_lines(titled) == [True, False, False, False]


def test_a_copied_qa_page_reads_as_the_post_it_holds() -> None:
    page = ("Backward pass order for my autograd engine\n\nAsked 1 year, 2 months ago\nModified 11 months ago\n"
            "Viewed 2k times\n\n5\n\nI am writing a tiny autograd engine for the assignment. "
            f"{QUESTION}\n\npython deep-learning autograd\nShare\nImprove this question\nFollow\n"
            "asked Jan 4, 2024 at 19:20\nsparrow_dev\n31 1 4\n"
            "Have you looked at how micrograd does it? – quill_ink Jan 4, 2024 at 19:45\nAdd a comment\n"
            "2 Answers\nSorted by: Highest score (default)\n\nYou need a topological order because ...")
    post = read_post(page)
    assert post.focus == QUESTION  # not the other user's comment
    assert post.title == "Backward pass order for my autograd engine"
    assert post.prose == ("Backward pass order for my autograd engine I am writing a tiny autograd engine for the "
                          f"assignment. {QUESTION}")


def test_a_sites_name_over_a_copied_page_is_not_its_title() -> None:
    page = ("Cross Validated\n\nBackward pass order for my autograd engine\n\nAsked 1 year, 2 months ago\n"
            f"Viewed 2k times\n\n5\n\nI am writing a tiny autograd engine for the assignment. {QUESTION}")
    post = read_post(page)
    assert post.title == "Backward pass order for my autograd engine" and post.focus == QUESTION
    assert "Cross Validated" not in post.prose


def test_what_follows_the_post_on_its_page_is_cut_once_the_post_has_asked() -> None:
    forum = (f"{QUESTION}\n\n1 Like\n\nRelated topics\nHow do I freeze a layer?\nWhy is my loss NaN?")
    assert read_post(forum).focus == QUESTION
    # A mirror site's copy: its heading over the answer, whose question is the answerer's, and its list.
    mirror = (f"{QUESTION}\n\nBest Answer\n\nA metric must be symmetric. Is that clear enough?\n\n"
              "Related Solved Questions\n  Solved – Is Jensen-Shannon divergence a metric?")
    assert read_post(mirror).prose == QUESTION
    mail = f"{QUESTION}\n\nThanks!\n--\nMira\nYou received this message because you are subscribed to a group."
    assert prose_of(mail) == QUESTION
    # A post that has asked nothing yet keeps what is below such a line: its question may be there.
    statement = "I followed the notes on backward passes.\n\nRelated\n\nSo why reverse topological order here?"
    assert read_post(statement).focus.endswith("So why reverse topological order here?")


def test_the_page_starts_where_its_chrome_does_once_the_body_has_asked() -> None:
    # Under the question: another user's comment, which asks, and the page's list of other threads.
    page = (f"Backprop order\n\nI wrote a tiny engine. {QUESTION}\n\n"
            "What does your graph look like? – wren_k Mar 3 at 9:12\nAdd a comment\n\n"
            "Hot topics\nWhy is my validation loss lower than training loss?")
    post = read_post(page)
    assert post.focus == QUESTION
    assert "validation loss" not in post.prose and "graph" not in post.prose
    # A notice in the page's header that asks, with the whole post under it, does not end the post.
    notice = ("Backprop order\n\nClosed. Needs more focus.\nCan you narrow it down? Edit the post.\n"
              "Closed 3 months ago.\nImprove this question\nAsked 3 months ago\n\n"
              f"I wrote a tiny engine for the homework and it gives wrong gradients on shared nodes. {QUESTION}")
    assert read_post(notice).focus == QUESTION
    # A title that asks does not count: the page prints its byline and counts between title and body.
    titled = "Why reverse topological order?\n\nasked 2 hours ago\nviewed 31 times\n\n" + QUESTION
    assert read_post(titled).focus == QUESTION
    # One chrome word alone may be a form's heading, with the post going on under it.
    form = ("#### What did you expect?\nThe textbook order.\n\n#### Question\n" + QUESTION)
    assert read_post(form).focus == QUESTION
    # A post that asks nothing: the page's list right under its chrome is still the page.
    statement = ("one logit or two for a yes/no classifier\n\nShare\nFollow\nasked Apr 2 at 9:10\n"
                 "Related threads\nWhy is my loss NaN?")
    assert read_post(statement).focus == "one logit or two for a yes/no classifier"
    assert starts_the_page(["Share", "Improve this question"], 0)
    assert not starts_the_page(["#### Question", QUESTION], 0)


@pytest.mark.parametrize(("text", "expected"), [
    ("mlnewbie42 · description · 2025-03-02", ("mlnewbie42", "post")),
    ("Ana Ruiz · comment · 2025-03-04", ("ana ruiz", "reply")),
    ("lint-helper[bot] · review thread · 2026-03-10", ("lint-helper[bot]", "reply")),
    ("jdoe opened this issue on Jun 26, 2021 · 3 comments", ("jdoe", "post")),
    ("kerasfan commented on Jun 27, 2021", ("kerasfan", "either")),
    ("kerasfan commented on 12 Feb •\nedited", ("kerasfan", "either")),
    ("kerasfan commented 3 days ago\nMember\nDid you try it?", ("kerasfan", "reply")),
    ("jdoe commented 3 days ago\nAuthor\nUpdate: it works now.", ("jdoe", "post")),
    ("kvoss\nMar 5\nCould you print the shapes?", ("kvoss", "either")),
    ("annelise_m\nMarch 5, 2023, 10:02am\n#2", ("annelise_m", "either")),
    ("quiet_gradient\n· 2y ago", ("quiet_gradient", "either")),
    ("paperclip_optimizer\n5 points · 4 years ago", ("paperclip_optimizer", "either")),
    ("Anonymous Atom 2 days ago", ("anonymous atom", "either")),
    ("mlnoob_no_more · 1y ago", ("mlnoob_no_more", "either")),
    ("Instructor answer", (None, "reply")),
    ("Daniel Osei\nSTAFF\n3d", ("daniel osei", "reply")),
    ("Tomás Vidal STAFF\n1d", ("tomás vidal", "reply")),
    ("the students' answer, where students collectively construct a single answer", (None, "reply")),
    ("followup discussions for lingering questions and comments", (None, "reply")),
    ("Answer\nI got 0.5 but the key says 0.7.", None),
    ("followup discussions", (None, "reply")),
    ("level 2", (None, "reply")),
    ("owner/repo · issue #12 · open · Python", None),
    ("He answered that in March", None),
    ("She answered on March 3, 2021.", None),
    ("I commented on this yesterday", None),
    ("Epoch 3\n2d", None),
    ("Thanks\n2 days ago I tried a smaller batch.", None),
    ("I trained it for 2 days", None),
    ("Training took 3 hours", None),
    ("Deadline Mar 5", None),
    # A name and a full timestamp in a page's two columns, or under a reply's arrow; not in a sentence.
    ("gabriel.m                              Mar 12, 2024, 9:14 AM", ("gabriel.m", "either")),
    ("    ↳ hannah_t  Mar 12, 2024, 10:02 AM", ("hannah_t", "either")),
    ("kvoss  2024-03-12 10:02", ("kvoss", "either")),
    ("Deadline Mar 5, 2024, 9:00 AM", None),
    ("the lecture on Mar 12, 2024 at 10:00", None),
    # Course boards: a role under the name, the poster's initials over it, Moodle's and Blackboard's one-line forms.
    ("Nadia Abernathy-Kim\nStudent\nMar 3, 2025 2:02pm", ("nadia abernathy-kim", "either")),
    ("NA\nNadia Abernathy-Kim\nStudent\nMar 3, 2025 2:02pm", ("nadia abernathy-kim", "either")),
    ("Student\nMar 3, 2025 2:02pm", None),
    ("by Sebastián Uribe - Monday, 3 March 2025, 2:02 PM", ("sebastián uribe", "either")),
    ("Re: week 5\nby Grace Muthoni - Monday, 3 March 2025, 6:45 PM", ("grace muthoni", "either")),
    ("Author: Ilya Sokolov (Student)", ("ilya sokolov", "either")),
    ("Author: Rosa Achebe (TA)", ("rosa achebe", "reply")),
    ("by the way - the lab is open", None),
    ("Re: my last question", None),
    ("[5]\n 0s\nfrom google.colab import drive", None),  # a notebook cell's number over its run time
    ("AM\nAkosua Mensah\n3 days ago in Lectures", ("akosua mensah", "either")),
    ("Luis Ortega\nExpert\nPosted a day ago", ("luis ortega", "either")),
    # A thread copied as Markdown: names in bold, sure with a verb or a reply count, alone only when written as
    # a handle and another bold name follows; a bold heading or a name in code is not one.
    ("**mrw-ta** commented", ("mrw-ta", "either")),
    ("**op** commented", ("op", "either")),
    ("**dpatel3** · 2 replies", ("dpatel3", "either")),
    ("**lin.yz**\nfor 0/1 labels I get the same number\n**mrw-ta**\nsame story for MSE", ("lin.yz", "either")),
    ("**lin.yz**\nfor 0/1 labels I get the same number both ways", None),
    ("**akim**\nisn't it only with a softmax\n**mrw-ta**\nno", None),
    ("**My question**\nwhy both names\n**Update**\nsolved", None),
    ("**nn.Softmax**\nits dim argument", None),
    # Reddit's comment headers, old and new.
    ("[–] kestrel_ml 9 points 2 years ago", ("kestrel_ml", "either")),
    ("u/tanh_enjoyer - 1d ago", ("tanh_enjoyer", "either")),
    ("u/tanh_enjoyer · 1d ago", ("tanh_enjoyer", "either")),
    ("Epoch 3d", None),
    ("mkalderon asked this question in Q&A", ("mkalderon", "post")),  # a GitHub discussion's opening line
    ("fangf-chen opened this issue · 4 comments", ("fangf-chen", "post")),  # an issue's header without its date
    # ... with the thread's state and labels on the same line
    ("Closed   j-park opened this issue · 3 comments   Labels: question", ("j-park", "post")),
])
def test_a_threads_byline_names_its_author_and_whether_a_reply_starts(text: str, expected: object) -> None:
    byline = thread_byline(text.split("\n"), 0)
    assert (byline and (byline.author, byline.kind)) == expected


@pytest.mark.parametrize("line", [
    "In [3]:", "Out[3]:      image_id  label", "[ ]", "▸ Show code", " 2s", "✓ 2s completed at 3:41 PM",
    "<Figure size 640x480 with 1 Axes>", "0:03 today we're going to set up a clean python environment", "[Music]",
    "arrow_drop_up", "arrow_drop_up 2", "Kenji H · 412th in this Competition · Posted 2 years ago",
    "From: Rukayat Okafor <r.okafor@uni.edu>", "Sent: Tuesday, March 4, 2025 9:12 AM", "Cc: Jonah B <jb@uni.edu>",
    "CAUTION: This email originated from outside of the University. Do not click links.", "Get Outlook for iOS",
    "Piazza: New post in lecture5", "Tap to view", "Edited by Ilya Sokolov on Mon, 3 Mar 2025, 14:09",
    "Search entries or author", "Mark as Read", "Status: Published",
])
def test_what_notebooks_transcripts_mail_and_course_boards_print_is_furniture(line: str) -> None:
    assert is_furniture(line), line


@pytest.mark.parametrize("line", [
    "Subject: why is KL not symmetric", "In my notebook the loss is flat", "at 12:30 the lab opens and I ran it",
    "my status: stuck on backprop", "from the lecture I understood that", "kiwi_coder",
])
def test_the_students_lines_that_look_like_them_are_not(line: str) -> None:
    assert not is_furniture(line), line


def test_a_transcripts_captions_a_split_comment_and_mathjax_markers_are_not_the_post() -> None:
    transcript = ("0:12\nall right let's get started can everyone hear me\n0:17\nhomework two is due friday\n\n"
                  + QUESTION)
    assert read_post(transcript).prose == QUESTION
    # A caption that asks is kept in view: the reader never drops a line with a question mark this way.
    assert furniture_lines(["0:12", "does everyone have the slides?"]) == [True, False]
    # Stack Exchange's comment copied over three lines, inside MathJax's group markers.
    page = (f"$\\begingroup$\n{QUESTION.rstrip('?')}\n$\\endgroup$\n3\n"
            "$\\begingroup$ Is this about held-out data? $\\endgroup$\n– noctilucent\nSep 12, 2020 at 4:10")
    post = read_post(page)
    assert "held-out" not in post.prose and "begingroup" not in post.prose and "noctilucent" not in post.prose
    assert post.focus == QUESTION.rstrip("?")


def test_a_copied_chat_is_split_into_its_messages_when_several_people_speak() -> None:
    discord = ("kestrel_07 — Today at 3:38 PM\nis the lab open tonight\nmoss.bytes — Today at 3:40 PM\nopen till 10\n"
               ":thumbsup: 3\nlindqvist_h — Today at 3:44 PM\n" + QUESTION)
    assert chat_messages(discord) == ("is the lab open tonight", "open till 10\n:thumbsup: 3", QUESTION)
    inline = f"[9:02 PM] juno_arc: anyone grabbing food\n[9:11 PM] okonkwo.d: {QUESTION}"
    assert chat_messages(inline) == ("anyone grabbing food", QUESTION)
    slack = f"Mira Castellanos  10:42 AM\nhas anyone booked the room?\nPriyanka V  11:07 AM\n{QUESTION}\nLike\nReply"
    assert chat_messages(slack) == ("has anyone booked the room?", f"{QUESTION}\nLike\nReply")
    whatsapp = f"4/11/25, 9:02 PM - Ana: lunch?\n4/11/25, 9:03 PM - Ben: {QUESTION}"
    assert chat_messages(whatsapp) == ("lunch?", QUESTION)
    # The student's own words over the paste are a message too.
    own = "can someone answer this from #general"
    assert chat_messages(f"{own}\n\n{inline}")[0] == own
    teams = ("[Yesterday 4:12 PM] Weber, Lukas (Student)\n\nslots are in Files\n\n"
             f"[9:05 AM] Rossi, Chiara (Student)\n\n{QUESTION}")
    assert chat_messages(teams) == ("slots are in Files", QUESTION)
    telegram = f"Sofia M, [12.03.2025 18:40]\nprinter works?\n\nClara N, [12.03.2025 19:03]\n{QUESTION}"
    assert chat_messages(telegram) == ("printer works?", QUESTION)
    split = f"Noah Fischer\n10:48 AM\nspare HDMI adapter?\nHiroshi Tanaka\n11:06 AM\n{QUESTION}"
    assert chat_messages(split) == ("spare HDMI adapter?", QUESTION)
    emoji = f"[12/03/25, 9:41 pm] Jess: r u at the library\n[12/03/25, 9:50 pm] Hamid 🏀: {QUESTION}"
    assert chat_messages(emoji) == ("r u at the library", QUESTION)
    # One person's messages, a training log's times, a post that says when: no chat.
    assert chat_messages(f"kestrel_07 — Today at 3:38 PM\nhi\nkestrel_07 — Today at 3:39 PM\n{QUESTION}") == ()
    assert chat_messages("Epoch 1 10:42\nloss 0.9\nEpoch 2 10:43\nloss 0.8") == ()
    assert chat_messages(f"Office hours Monday 10:30 AM\nLab Tuesday 2:00 PM\n{QUESTION}") == ()
    assert read_post(QUESTION).messages == () and read_post(discord).messages


def test_a_mail_reply_ends_at_the_mail_it_quotes_and_a_forward_keeps_the_mail_it_passes_on() -> None:
    quoted = ("From: course-staff\nDate: 2017-03-10 03:31\nSubject: Re: accuracy\n"
              "Hey, did you try a lower learning rate?")
    reply = f"Hey,\nthanks for the reply. {QUESTION}\n_________\nL. H.\n\n{quoted}"
    assert read_post(reply).focus == QUESTION and "lower learning rate" not in read_post(reply).prose
    forward = ("Forwarding a student's message below, can one of you pick this up?\nKwame\n________________\n"
               "From: Ana Ruiz <ana@uni.edu>\nSent: Monday, 10 March 2025 22:31\nSubject: question re week 6\n\n"
               + QUESTION)
    assert read_post(forward).focus == QUESTION
    # A bottom-posted reply: the quote sits under the subject line, the student's words under the quote.
    bottom = f"Subject: Re: backprop order?\n\n{quoted}\n\n{QUESTION}"
    assert read_post(bottom).focus == QUESTION


def test_a_threads_first_byline_under_a_pages_labels_names_the_asker() -> None:
    """A course board prints its title, category and view switches over the asker's byline: labels, not
    the student's words, so the byline is the asker's and the reply under the post is cut."""
    board = ("Dashboard / My courses / DL-4100 / General / Q&A forum / Question from this week\n"
             "Question from this week\nDisplay replies in nested form\nSettings\nPicture of Elif Sahin\n"
             f"by Elif Sahin - Wednesday, 12 March 2025, 3:14 PM\n{QUESTION}\nPermalink\nReply\n"
             "Picture of Bram de Vries\nRe: Question from this week\n"
             "by Bram de Vries - Wednesday, 12 March 2025, 6:40 PM\nbumping this, would also like to know\nReply")
    post = read_post(board)
    assert post.focus == QUESTION and "bumping" not in post.prose and "Picture" not in post.prose
    # A sentence of the student's over the byline is their post: the byline under it is a reply.
    said = f"{QUESTION}\n\nkvoss\nMar 5\nCould you print the shapes of both tensors?"
    assert read_post(said).prose == QUESTION


def test_another_persons_reply_in_a_copied_thread_is_not_the_students_question() -> None:
    reply = "Thanks for the report. Which optimizer are you using?"
    issue = ("owner/autograd-toy · issue #7 · open · Python\n# Backward order\n\n"
             f"mlnewbie42 · description · 2025-03-02\nI wrote a tiny engine. {QUESTION}\n\n"
             f"mlnewbie42 · comment · 2025-03-03\nUpdate: a DFS gives wrong sums on shared nodes.\n\n"
             f"Ana Ruiz · comment · 2025-03-04\n{reply}")
    post = read_post(issue)
    assert post.focus == QUESTION and "optimizer" not in post.prose
    assert "DFS gives wrong sums" in post.prose  # the asker's own follow-up is still the post
    # No byline names the asker: a reply under the student's words is still someone else's.
    assert read_post(f"{QUESTION}\nAna Ruiz · comment · 2025-03-04\n{reply}").prose == QUESTION
    # GitHub prints "commented" over the opening post too: a title over it is not a post with a reply.
    web = (f"Backward order\n\njdoe commented on Jun 3, 2022\nI wrote a tiny engine for the homework. {QUESTION}"
           f"\n\nkerasfan commented on Jun 4, 2022\n{reply}")
    post = read_post(web)
    assert post.focus == QUESTION and post.title == "Backward order" and "optimizer" not in post.prose


def test_a_github_discussion_reads_as_the_askers_post_and_their_later_comments() -> None:
    discussion = ("Corners of round fundus images #312\nUnanswered\nmkalderon asked this question in Q&A\n\n"
                  f"mkalderon on Apr 11\nFor my project the photos are discs on black. {QUESTION}\n\n"
                  "  jpshaw on Apr 12\n  Which dataset are you on, and do you resize before cropping?\n\n"
                  "  mkalderon on Apr 12\n  APTOS, resized after cropping.\n\n"
                  "Sign up for free to join this conversation on GitHub. Already have an account? Sign in to comment")
    post = read_post(discussion)
    assert post.focus == QUESTION and "Which dataset" not in post.prose and "Sign in" not in post.prose
    assert "APTOS, resized after cropping." in post.prose  # the asker's own later comment
    # "name on date" is a byline only in a copy that opens as a discussion does.
    assert thread_byline(["Exam on Mar 5"], 0) is None


def test_an_issue_whose_header_names_the_asker_reads_as_their_post_and_follow_ups() -> None:
    follow_up = "Thanks. Follow-up: how do I reproduce label smoothing by hand with NLLLoss?"
    issue = ("CrossEntropyLoss vs NLLLoss #12\nOpen\nfangf-chen opened this issue · 2 comments\n\n"
             f"I wrote a tiny engine for the homework. {QUESTION}\n\n"
             "ta-ignacio commented\nDid you check which order your DFS visits shared nodes in?\n\n"
             f"fangf-chen commented on Nov 28\n{follow_up}")
    post = read_post(issue)
    assert "Did you check" not in post.prose and follow_up in post.prose
    # The repository's line over the title is no title; a GitHub app's comment is someone else's too.
    over = ("tensorflow / tensorflow\n\nBackward order #7\n\nOpen   fangf-chen opened this issue · 2 comments\n\n"
            f"fangf-chen commented\nI wrote a tiny engine for the homework. {QUESTION}\n\n"
            "google-ml-butler bot commented\nAre you satisfied with the resolution of your issue?")
    post = read_post(over)
    assert post.title == "Backward order #7" and post.focus == QUESTION and "satisfied" not in post.prose
    # With no header naming the asker, a "commented" without its date is no byline: a student who pastes
    # someone else's thread writes their own question under its last comment.
    pasted = ("Step 1 only reaches 56% on the test set\n#5 · closed · Python\n\nHaoMood commented\nThat is too low.\n\n"
              "nikhilr commented\nDid anyone fix it?\n\n^ copied this, it is my situation in lab 6. "
              "What do I change to get the accuracy higher?")
    assert read_post(pasted).focus.endswith("What do I change to get the accuracy higher?")


def test_a_comment_thread_under_text_that_asks_nothing_is_read_until_a_comment_asks() -> None:
    # A blog post's excerpt asks nothing: the student's question is in the comments, and the reply to it is not.
    blog = ("Detecting Blindness with Deep Learning\n11 Jul 2020 · 12 min read\n\n"
            "...preprocessing: trim the dark margins of each photo, then resize them to 512px...\n\n"
            "Jonas W. · 2 years ago\nGreat write-up, the augmentation part was useful.\n\n"
            f"Hana T. · 2 years ago\nFor my class project on round fundus photos: {QUESTION}\n\n"
            "Nikita K. · 2 years ago\nI cropped to the bounding box. Did you try that?")
    post = read_post(blog)
    assert post.focus.endswith(QUESTION) and "Did you try that" not in post.prose


def test_a_forum_thread_reads_as_the_askers_post_under_their_name() -> None:
    # The asker's name over a date opens the post; a name and a date are no output to drop the post with.
    thread = (f"vision\n\nmarek_l\nMar 5\n{QUESTION}\n\n1 Like\nReply\n\n"
              "harlowe\nMar 6\nCould you post a minimal snippet? Which version are you on?\n\n"
              "marek_l\nMar 7\nThanks, that fixed it.")
    post = read_post(thread)
    assert post.focus == QUESTION and "marek_l" not in post.prose and "snippet" not in post.prose
    # A page's lines with no blank line around the question: its paragraph is not all output.
    reddit = ("r/learnmachinelearning\nPosted by u/quietgradient 2 years ago\n"
              "why does backprop need reverse topological order\n14 comments\nShare Save Hide Report\n"
              "92% Upvoted\nSort by: best\nlevel 1\nflaxen_owl\n· 2 yr. ago\nWhat's the shape of your input?")
    post = read_post(reddit)  # ("Sort by: best" stays: "best" is no chrome word, a student's "best accuracy" is theirs)
    assert post.focus.startswith("why does backprop need reverse topological order") and "shape" not in post.prose


def test_replies_copied_as_markdown_reddit_or_greeting_the_asker_end_the_post() -> None:
    reply = "You'd add it as a class in optim.py. Which framework version are you on?"
    markdown = (f"Backward order\n\nI wrote a tiny engine for the homework. {QUESTION}\n\n---\n"
                f"**prof-ta** commented\n{reply}")
    post = read_post(markdown)
    assert post.focus == QUESTION and "framework" not in post.prose
    # Reddit's replies under a post, longer than it: the page's counts over them do not keep them in.
    reddit = (f"Backward order help\n\nI wrote a tiny engine for the homework and the sums come out wrong. "
              f"{QUESTION}\n\n14 comments share save hide report\n\n"
              f"[–] kestrel_ml 9 points 2 years ago\n{reply}\n\n[–] noisy_labels 5 points 2 years ago\n"
              "have you checked the shared nodes? a longer reply that says much more than the post did, "
              "so its words outnumber the student's own words above it by far")
    post = read_post(reddit)
    assert post.focus == QUESTION and "framework" not in post.prose and "shared nodes" not in post.prose
    greeted = (f"I wrote a tiny engine for the homework. {QUESTION}\nThanks a lot for any help\n\n"
               "- Hi @quentin_r, this sounds like Course 2 rather than Course 1, can you say which video you mean?")
    post = read_post(greeted)
    assert post.focus == QUESTION and "video" not in post.prose
    # A student who greets a TA by handle before asking is still asking.
    assert read_post(f"Hi @ta-jlee, {QUESTION}").focus.endswith(QUESTION)


def test_a_reply_under_a_forum_post_in_columns_ends_the_post_and_the_askers_later_comments_stay() -> None:
    # Name and time in two columns, replies indented under an arrow: another person's reply is not the
    # post; the asker's own comments further down are, and a question asked there is asked last (a
    # student comes back under the replies with what they now ask).
    thread = (f"Forum › Projects\n\nBackward order in my engine\n\ngabriel.m                    Mar 12, 2024, 9:14 AM\n"
              f"I wrote a tiny autograd engine for the homework. {QUESTION}\n\nQuote   Reply   👍 1\n\n"
              "    ↳ hannah_t  Mar 12, 2024, 10:02 AM\n      I used a DFS and it was fine fwiw, numpy?\n\n"
              "    ↳ gabriel.m  Mar 12, 2024, 10:15 AM\n"
              "      thanks! but why would a DFS give wrong sums on shared nodes?")
    post = read_post(thread)
    assert post.focus.endswith("thanks! but why would a DFS give wrong sums on shared nodes?")
    assert QUESTION in post.prose and "fwiw" not in post.prose and "hannah" not in post.prose
    # A comment of the asker's that asks nothing leaves the question where it was.
    thanked = thread.replace("thanks! but why would a DFS give wrong sums on shared nodes?", "thanks, that fixed it.")
    assert read_post(thanked).focus == QUESTION
    # With no byline naming the asker, every reply under the post is someone else's.
    unnamed = f"I wrote a tiny autograd engine for the homework. {QUESTION}\n\n**mrw-ta** commented\nwhich numpy?"
    assert read_post(unnamed).prose == f"I wrote a tiny autograd engine for the homework. {QUESTION}"


def test_an_issue_form_keeps_the_students_words_and_drops_its_labels() -> None:
    form = ("### Describe the bug\n\n" + QUESTION + "\n\n### Expected behavior\n\n_No response_\n\n"
            "### Environment\n\n- OS: Ubuntu 22.04\n- PyTorch version: 2.1.0\n- numpy==1.26.4\n")
    assert prose_of(form) == QUESTION


def test_an_issue_form_that_asks_without_a_question_mark_is_read_under_its_question_label() -> None:
    """With no question mark the reader falls back to a sentence; in a form, the one under the form's
    question, not the reporter's note under "What have you tried?" or "Additional context"."""
    asked = "minimizing forward KL vs reverse KL when q is gaussian and p has two peaks"
    form = (f"### Describe the question\n\n{asked}\n\n### What have you tried?\n\n"
            "Read the docs and searched the old issues.\n\n### Versions\n\ntorch 2.0.1, numpy 1.24.3")
    post = read_post(form)
    assert post.focus == asked
    assert "Read the docs" in post.prose  # still the post's context
    bold = f"**Summary**\n\n{asked}\n\n**Additional context**\n\nI run it on a laptop CPU."
    assert read_post(bold).focus == asked
    # A form with one section only, or a post without labels, reads as before: its last sentence.
    assert read_post(f"### Describe the question\n\n{asked}").focus == asked
    assert asked_in_form(f"{asked}\n\nRead the docs.") is None


def test_a_heading_that_names_a_topic_stays_in_the_prose() -> None:
    assert prose_of("### Reverse topological order in backward\n\n" + QUESTION).startswith("Reverse topological")


def test_a_metric_dict_printed_by_a_trainer_is_output() -> None:
    log = "{'loss': 0.4127, 'learning_rate': 2e-05, 'epoch': 1.0}\n\n" + QUESTION
    assert prose_of(log) == QUESTION


def test_a_setup_table_row_is_furniture_and_a_results_row_is_not() -> None:
    assert is_furniture("| torch | 2.2.0 (mps backend) |")
    assert not is_furniture("| adam | 0.91 | 12 min |")


def test_an_error_message_under_its_error_line_goes_until_the_student_speaks() -> None:
    post = ("RuntimeError: CUDA error: device-side assert triggered\n"
            "Kernel errors might be reported asynchronously at another call.\n"
            "For debugging consider passing CUDA_LAUNCH_BLOCKING=1.\n"
            "I only see it when the loss is the log of a softmax.\n\n" + QUESTION)
    prose = prose_of(post)
    assert "asynchronously" not in prose and "CUDA_LAUNCH_BLOCKING" not in prose
    assert "I only see it when the loss is the log of a softmax." in prose
    assert QUESTION in prose
    # A paragraph break ends the message: the next paragraph is the student's, first person or not.
    assert "Reverse order matters here." in prose_of("ValueError: bad shape\n\nReverse order matters here.")
    assert "My loss takes log base 2." in prose_of("ValueError: bad shape\nMy loss takes log base 2.")


def test_a_paragraph_of_output_takes_its_plain_lines_with_it() -> None:
    crash = ("terminate called after throwing an instance of 'c10::Error'\n"
             "frame #0: c10::Error::Error(c10::SourceLocation) + 0x6b (0x7f1c2a3b4c5d in /opt/lib/libc10.so)\n"
             "frame #1: at::native::index_select + 0x1f2 (0x7f2d3e4f5a6b in /opt/lib/libtorch_cpu.so)\n"
             "Aborted (core dumped)\n\n")
    prose = prose_of(crash + QUESTION)
    assert "Aborted" not in prose and "terminate called" not in prose
    assert prose == QUESTION
    # A paragraph mostly the student's, with a log line or two in it, keeps the student's lines.
    mixed = ("My loss stalls after a few epochs.\nEpoch 3/20 - loss: 0.6121\n"
             "The learning rate is 0.001 with Adam.\n" + QUESTION)
    assert "The learning rate is 0.001 with Adam." in prose_of(mixed)
