"""Rate limiting of the API: the counter, the plan budget, the per-IP guard, the spent-window memo.

Knows nothing of tokens: the token core (``tokens.lookup``, ``tokens.authentication``,
``tokens.early_refusal``) uses it, never the other way round.
"""
