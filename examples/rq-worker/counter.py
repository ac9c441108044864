"""The work itself: it runs in the worker dyno, never in the web request."""
from collections import Counter


def count_words(text):
    counts = Counter(word.strip(".,;:!?\"'").lower() for word in text.split())
    counts.pop("", None)
    return dict(counts.most_common(10))
