"""Executes or exports a notebook with Debian's Jupyter (nbclient, nbconvert).

Called by `expert notebook run` and `expert notebook publish`; kept tiny so
the logic (parameters, paths, messages) stays in TypeScript. An executed
notebook is signed (trusted) in the user's Jupyter data folder.

  nbtool.py execute IN OUT --cwd DIR --kernel NAME --timeout SECONDS
  nbtool.py html IN OUT
"""
import argparse
import sys

import nbformat
from nbformat.sign import NotebookNotary


def execute(args):
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    nb = nbformat.read(args.input, as_version=4)
    client = NotebookClient(
        nb,
        kernel_name=args.kernel,
        timeout=None if args.timeout <= 0 else args.timeout,
        startup_timeout=120,
        resources={"metadata": {"path": args.cwd}},
        record_timing=True,
    )
    status = 0
    try:
        client.execute()
    except CellExecutionError:
        # tslab reports errors on stderr rather than as an error message, so
        # say which cell failed and what it printed there.
        sys.stderr.write(describe_failure(nb) + "\n")
        status = 1
    except (CellTimeoutError, DeadKernelError) as error:
        sys.stderr.write(f"{type(error).__name__}: {error}\n")
        status = 1
    finally:
        # The user ran it: sign it as `jupyter trust` does, or Jupyter hides its HTML and
        # JavaScript outputs (every Plotly chart is blank space in an untrusted notebook).
        NotebookNotary().sign(nb)
        nbformat.write(nb, args.output)
    return status


def describe_failure(nb):
    executed = [c for c in nb.cells if c.cell_type == "code" and c.get("execution_count")]
    if not executed:
        return "a cell failed"
    cell = max(executed, key=lambda c: c.execution_count)
    index = nb.cells.index(cell) + 1
    errors = "".join(
        o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream" and o.get("name") == "stderr"
    )
    errors += "".join(
        "{}: {}".format(o.get("ename"), o.get("evalue")) for o in cell.get("outputs", []) if o.get("output_type") == "error"
    )
    source = cell.source if len(cell.source) < 400 else cell.source[:400] + "..."
    return "cell {} failed:\n{}\n---\n{}".format(index, source, errors.strip() or "(no error text)")


def html(args):
    from nbconvert import HTMLExporter

    from traitlets.config import Config

    nb = nbformat.read(args.input, as_version=4)
    # Jupyter Book's cell tags: a published paper shows its prose and figures, not the code that made them.
    config = Config()
    config.TagRemovePreprocessor.enabled = True
    config.TagRemovePreprocessor.remove_input_tags = {"remove-input"}
    config.TagRemovePreprocessor.remove_cell_tags = {"remove-cell"}
    config.TagRemovePreprocessor.remove_all_outputs_tags = {"remove-output"}
    exporter = HTMLExporter(template_name="lab", config=config)
    body, _ = exporter.from_notebook_node(nb)
    with open(args.output, "w", encoding="utf-8") as f:
        f.write(body)
    return 0


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="verb", required=True)
    ex = sub.add_parser("execute")
    ex.add_argument("input")
    ex.add_argument("output")
    ex.add_argument("--cwd", required=True)
    ex.add_argument("--kernel", default="expert")
    ex.add_argument("--timeout", type=int, default=0)
    ht = sub.add_parser("html")
    ht.add_argument("input")
    ht.add_argument("output")
    args = parser.parse_args()
    return execute(args) if args.verb == "execute" else html(args)


if __name__ == "__main__":
    sys.exit(main())
