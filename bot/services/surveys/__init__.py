"""Surveys: the results survey in waves (at registration, after 6 and 12 months) and the quality
survey after a closed consultation or a finished course, one row per family and wave
(`SurveyWave`), asked through the delivery outbox and answered one tap per question.

- waves.py: what the parts share (the events' object, the open statuses, calendar months).
- planning.py: which waves a family gets and when (at registration, for families from before,
  after an occasion).
- asking.py: the minute tick's asking: due waves moved to asked by a compare-and-set and their
  first question queued in the outbox, outside the family's quiet hours.
- closing.py: waves left too long: asked and unfinished (expired), never asked in time (missed).
- answering.py: a family's presses (answer, skip, "don't ask me"), each checked against their own
  wave, and what "My data" says of their surveys."""
