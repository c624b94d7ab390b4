"""The NLP layer: scikit-learn-style estimators with no Rasa imports, plus thin Rasa adapters."""
