"""Similar past tickets for agents: top-k resolved tickets for a customer message, explained.

How it ranks. A ticket's score mixes two parts, `label_weight` of the second:

* **Lexical**: BM25 over word lemmas (the shared `nlp.text` lemmatiser), divided by the
  query's score against a ticket with exactly its words, so about 1 means "the same words".
  This is what makes a result explainable: `Match.matched_terms` are the query lemmas that
  added most to it.
* **Category agreement**: past tickets carry a category in the CRM (an intent, a reason
  code). The intent classifier (`nlp.intent`: two sentence encoders beside word
  and character TF-IDF, a linear SVM) is trained on the indexed tickets' categories; a query
  agrees with a ticket as much as the classifier believes the query belongs to the ticket's
  category. A saved index records the encoders its classifier was fit on, and refuses to load
  under another (`EncoderChangedError`): its writer rebuilds it.

Why both: on BANKING77 lexical matching alone tops out near P@5 0.72, because customers
describe one problem in different words; the classifier generalises over paraphrases, and
the lexical part orders tickets within a category and carries the ranking when the classifier
is unsure. So the quality needs labelled past tickets: without labels (or with a single
category) the index is plain BM25, and a ticket without a category the classifier knows
(unlabelled, or added later with a new one) agrees through the category the classifier
predicts for it, weighted by its probability. The classifier learns from the indexed tickets
only, never from queries.

Incremental adds. The matrix holds BM25's saturated term frequencies, which do not depend on
IDF; IDF is computed at query time from document frequencies that `add` keeps current, so a
term first seen by `add` joins the vocabulary and is searchable at once. Frozen at `fit` are
the average ticket length (BM25's length norm) and the classifier (a ticket added with a
category it never saw agrees through the category it predicts); `crm reindex` calls `fit` on
all resolved tickets to refresh them.

Scale. Postings are kept term-major (a CSR matrix of terms x tickets), so a query reads only
the postings of its own terms. Search is exact but lazy, in the spirit of MaxScore: postings
of very common terms and the agreement of unlikely categories are left out of the first pass
over all tickets, their largest possible contribution is bounded, and only tickets that could
still reach the top k are scored in full. Recent adds live in a small second segment, merged
into the main one when it reaches `merge_ratio` of it. Tickets must already be redacted: the
index stores their text as given.

Modules: `index` (the estimator), `postings` (the two segments), `topk` (the lazy exact
search), `categories` (the classifier behind category agreement), `lemmas`, `records`.
"""

from __future__ import annotations

from nlp.similar.categories import default_classifier
from nlp.similar.index import EncoderChangedError, SimilarTicketIndex
from nlp.similar.lemmas import ticket_lemmas
from nlp.similar.records import Match, Ticket

__all__ = [
    "EncoderChangedError",
    "Match",
    "SimilarTicketIndex",
    "Ticket",
    "default_classifier",
    "ticket_lemmas",
]
