"""Token-aware text splitting.

Text is cut at the coarsest boundary that makes pieces fit (paragraph, line, sentence, clause,
word, and only as a last resort inside a word at token boundaries), then pieces are packed
greedily into chunks of at most `chunk_size` tokens. Pieces keep their separators, so with no
overlap the chunks concatenate back to the input: nothing is lost between chunks.

The official connector's splitter options mean the same here: `keep_separator` off (a separator
splitter's default there) drops the separator where the text is cut between two chunks; `language`
(code splitter) cuts first where the language starts a definition, and such a separator opens the
next chunk ("\ndef f" starts a chunk) instead of closing the previous one, as do Markdown headers.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from .config import CodeSplitter, MarkdownSplitter, ProcessingConfig, SeparatorSplitter
from .tokens import cl100k

DEFAULT_SEPARATORS = ["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " "]
_LINES = ["\n\n", "\n", " "]
_C_LIKE_FLOW = ["\nif ", "\nfor ", "\nwhile ", "\nswitch ", "\ncase "]
# Where each language starts a definition or a block, coarsest first (after langchain's
# get_separators_for_language, which the official connector uses; literal strings only), then
# blank lines, lines, words.
CODE_SEPARATORS: dict[str, list[str]] = {
    "cpp": ["\nclass ", "\nvoid ", "\nint ", "\nfloat ", "\ndouble ", *_C_LIKE_FLOW, *_LINES],
    "go": ["\nfunc ", "\nvar ", "\nconst ", "\ntype ", "\nif ", "\nfor ", "\nswitch ", "\ncase ", *_LINES],
    "java": ["\nclass ", "\npublic ", "\nprotected ", "\nprivate ", "\nstatic ", *_C_LIKE_FLOW, *_LINES],
    "js": ["\nfunction ", "\nconst ", "\nlet ", "\nvar ", "\nclass ", *_C_LIKE_FLOW, "\ndefault ", *_LINES],
    "php": ["\nfunction ", "\nclass ", "\nif ", "\nforeach ", "\nwhile ", "\ndo ", "\nswitch ", "\ncase ",
            *_LINES],
    "proto": ["\nmessage ", "\nservice ", "\nenum ", "\noption ", "\nimport ", "\nsyntax ", *_LINES],
    "python": ["\nclass ", "\ndef ", "\n\tdef ", "\n    def ", *_LINES],
    "rst": ["\n\n.. ", *_LINES],  # langchain's header-underline regexes cannot be literal separators
    "ruby": ["\ndef ", "\nclass ", "\nif ", "\nunless ", "\nwhile ", "\nfor ", "\ndo ", "\nbegin ", "\nrescue ",
             *_LINES],
    "rust": ["\nfn ", "\nconst ", "\nlet ", "\nif ", "\nwhile ", "\nfor ", "\nloop ", "\nmatch ", *_LINES],
    "scala": ["\nclass ", "\nobject ", "\ndef ", "\nval ", "\nvar ", "\nif ", "\nfor ", "\nwhile ", "\nmatch ",
              "\ncase ", *_LINES],
    "swift": ["\nfunc ", "\nclass ", "\nstruct ", "\nenum ", "\nif ", "\nfor ", "\nwhile ", "\ndo ", "\nswitch ",
              "\ncase ", *_LINES],
    "markdown": ["\n# ", "\n## ", "\n### ", "\n#### ", "\n##### ", "\n###### ", "```\n", "\n***\n", "\n---\n",
                 "\n___\n", *_LINES],
    "latex": ["\n\\chapter{", "\n\\section{", "\n\\subsection{", "\n\\subsubsection{", "\n\\begin{enumerate}",
              "\n\\begin{itemize}", "\n\\begin{description}", "\n\\begin{list}", "\n\\begin{quote}",
              "\n\\begin{quotation}", "\n\\begin{verse}", "\n\\begin{verbatim}", "\n\\begin{align}", "$$", "$",
              " "],
    "html": ["<body", "<div", "<p", "<br", "<li", "<h1", "<h2", "<h3", "<h4", "<h5", "<h6", "<span", "<table", "<tr",
             "<td", "<ul", "<ol", "<header", "<footer", "<nav", "<head", "<style", "<script", "<meta", "<title", " "],
    "sol": ["\npragma ", "\nusing ", "\ncontract ", "\ninterface ", "\nlibrary ", "\nconstructor ", "\ntype ",
            "\nfunction ", "\nevent ", "\nmodifier ", "\nerror ", "\nstruct ", "\nenum ", *_C_LIKE_FLOW[:3],
            "\ndo while ", "\nassembly ", *_LINES],
}


def _opens(separator: str) -> bool:
    """A separator that starts a construct ("\ndef ", "\n## ", "<div") belongs to the next piece."""
    return separator.startswith(("\n", "<", "```")) and bool(separator.strip()) and not separator.endswith("\n")


def separators_for(processing: ProcessingConfig) -> list[str]:
    """The separator list the configured text splitter implies (JSON-quoted in the official spec)."""
    splitter = processing.text_splitter
    if isinstance(splitter, SeparatorSplitter):
        return [json.loads(s) for s in splitter.separators if json.loads(s) != ""] or DEFAULT_SEPARATORS
    if isinstance(splitter, MarkdownSplitter):
        headers = ["\n" + "#" * level + " " for level in range(1, splitter.split_level + 1)]
        return headers + DEFAULT_SEPARATORS
    if isinstance(splitter, CodeSplitter):
        return CODE_SEPARATORS[splitter.language]
    return DEFAULT_SEPARATORS


def _split_keep(text: str, separator: str, opens: bool = False) -> list[str]:
    """Split at each separator, keeping it: on the left piece ("a. b" -> ["a. ", "b"]), or, for a
    separator that opens a construct, on the right one ("a\ndef b" -> ["a", "\ndef b"])."""
    parts = text.split(separator)
    if opens:
        pieces = [parts[0]] + [separator + p for p in parts[1:]]
    else:
        pieces = [p + separator for p in parts[:-1]] + [parts[-1]]
    return [p for p in pieces if p]


class Chunker:
    """Splits text into chunks of at most `chunk_size` tokens with `overlap` tokens carried over."""

    def __init__(self, chunk_size: int, overlap: int = 0, separators: Sequence[str] = DEFAULT_SEPARATORS, *,
                 keep_separator: bool = True, openers: bool = False) -> None:
        """`keep_separator` False: the separator where a chunk ends is dropped. `openers`: separators that
        start a construct (code definitions, Markdown headers) open the next chunk."""
        if overlap >= chunk_size:
            raise ValueError("overlap must be smaller than chunk_size")
        self.chunk_size = chunk_size
        self.overlap = overlap
        self.separators = list(separators)
        self.keep_separator = keep_separator
        self._opens = [openers and _opens(s) for s in self.separators]
        self._enc = cl100k()

    @classmethod
    def from_config(cls, processing: ProcessingConfig) -> "Chunker":
        splitter = processing.text_splitter
        return cls(processing.chunk_size, processing.chunk_overlap, separators_for(processing),
                   keep_separator=splitter.keep_separator if isinstance(splitter, SeparatorSplitter) else True,
                   openers=isinstance(splitter, (CodeSplitter, MarkdownSplitter)))

    def count(self, text: str) -> int:
        return len(self._enc.encode_ordinary(text))

    def split(self, text: str) -> list[str]:
        return [chunk for chunk, _ in self.split_counted(text)]

    def split_counted(self, text: str) -> list[tuple[str, int]]:
        """(chunk, tokens) pairs; the counts let the writer bound embedding requests by tokens."""
        if not text:
            return []
        pieces = self._pieces(text, 0)
        if len(pieces) == 1:
            return pieces
        chunks = self._pack(pieces)
        return chunks if self.keep_separator else self._drop_cut_separators(chunks)

    def _drop_cut_separators(self, chunks: list[tuple[str, int]]) -> list[tuple[str, int]]:
        """Every chunk but the last ends where the text was cut, right after a separator: drop it."""
        by_length = sorted(self.separators, key=len, reverse=True)
        out = []
        for n, (chunk, tokens) in enumerate(chunks):
            cut = next((s for s in by_length if chunk.endswith(s)), "") if n < len(chunks) - 1 else ""
            if cut:
                chunk = chunk[:-len(cut)]
                tokens = self.count(chunk)
            if chunk:
                out.append((chunk, tokens))
        return out

    def _pieces(self, text: str, level: int) -> list[tuple[str, int]]:
        """(piece, tokens) pairs, each piece at most chunk_size tokens, in order, covering the text."""
        tokens = self.count(text)
        if tokens <= self.chunk_size:
            return [(text, tokens)]
        while level < len(self.separators) and self.separators[level] not in text:
            level += 1
        if level >= len(self.separators):
            return self._hard_split(text)
        out: list[tuple[str, int]] = []
        for part in _split_keep(text, self.separators[level], self._opens[level]):
            out.extend(self._pieces(part, level + 1))
        return out

    def _hard_split(self, text: str) -> list[tuple[str, int]]:
        """No separator left: cut at token boundaries (on character offsets, so no UTF-8 is broken)."""
        tokens = self._enc.encode_ordinary(text)
        _, offsets = self._enc.decode_with_offsets(tokens)
        out = []
        for start in range(0, len(tokens), self.chunk_size):
            begin = offsets[start]
            end = offsets[start + self.chunk_size] if start + self.chunk_size < len(tokens) else len(text)
            if end > begin:
                piece = text[begin:end]
                out.append((piece, self.count(piece)))
        return out

    def _pack(self, pieces: list[tuple[str, int]]) -> list[tuple[str, int]]:
        """Greedy packing by summed piece tokens, verified on the joined text (BPE seams may differ).

        Every round consumes at least one new piece, so the loop always ends.
        """
        chunks: list[tuple[str, int]] = []
        carried: list[tuple[str, int]] = []
        i = 0
        while i < len(pieces):
            current, size = list(carried), sum(t for _, t in carried)
            n_carried = len(current)
            if current and size + pieces[i][1] > self.chunk_size:
                current, n_carried = [], 0
            i = self._fill(pieces, i, current)
            text, tokens, i = self._fit(current, n_carried, i)
            chunks.append((text, tokens))
            carried = self._overlap_tail(current) if self.overlap and i < len(pieces) else []
        return chunks

    def _fill(self, pieces: list[tuple[str, int]], i: int, current: list[tuple[str, int]]) -> int:
        """Adds pieces[i] and then as many following pieces as fit by their token sums; returns the next index."""
        size = sum(t for _, t in current) + pieces[i][1]
        current.append(pieces[i])
        i += 1
        while i < len(pieces) and size + pieces[i][1] <= self.chunk_size:
            current.append(pieces[i])
            size += pieces[i][1]
            i += 1
        return i

    def _fit(self, current: list[tuple[str, int]], n_carried: int, i: int) -> tuple[str, int, int]:
        """Drops trailing new pieces (then the carried overlap) until the joined text fits; (text, tokens, next index)."""
        text = "".join(p for p, _ in current)
        tokens = self.count(text)
        while tokens > self.chunk_size and len(current) > 1:
            if len(current) - n_carried > 1:
                current.pop()
                i -= 1
            else:
                current[:], n_carried = current[n_carried:], 0
            text = "".join(p for p, _ in current)
            tokens = self.count(text)
        return text, tokens, i

    def _overlap_tail(self, pieces: list[tuple[str, int]]) -> list[tuple[str, int]]:
        tail: list[tuple[str, int]] = []
        size = 0
        for piece, tokens in reversed(pieces):
            if size + tokens > self.overlap:
                break
            tail.insert(0, (piece, tokens))
            size += tokens
        return tail

