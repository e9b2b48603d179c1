"""Content as the files teachers import elsewhere: one module per format, a registry on top.

``formats`` says which formats each content type offers and renders them; the other modules
turn one typed body into one file and know nothing of HTTP or storage.

    flashcards     Anki package (anki), tab-separated text for Anki and Quizlet (tsv)
    quiz           Moodle GIFT (gift), QTI 1.2 content package for Canvas and other LMSs (qti)
    study guide    Markdown (markdown)
    podcast        speaker-labelled Markdown script (markdown)
    every type     Markdown and JSON (document)
"""
