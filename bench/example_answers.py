"""The README's example: the two questions of the mission asked through the whole path, as `assistant ask` prints
them, saved so that `python -m bench.report` writes them into the README.

    python -m bench.example_answers
"""

from __future__ import annotations

import argparse

from assistant.qa import Assistant
from assistant.settings import Settings
from bench._common import save

QUESTIONS = ["What was decided about police reporting of violence?", "Hvornår træder den nye MED-aftale i kraft?"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.parse_args()
    settings = Settings()
    assistant = Assistant(settings)
    shown = []
    for question in QUESTIONS:
        answer = assistant.ask(question)
        shown.append({"question": question, "printed": answer.render(), "seconds": round(answer.seconds, 1)})
        print(f'$ assistant ask "{question}"\n{answer.render()}\n')
    print(f"saved {save('example_answers', {'answers': shown}, settings)}")


if __name__ == "__main__":
    main()
