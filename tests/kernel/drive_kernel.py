"""Drives a real Jupyter kernel like a notebook front end does, for the
kernel tests: runs cells in order, optionally interrupts one after a delay,
and prints one JSON object with each cell's reply status and outputs.

  drive_kernel.py KERNEL CWD CELLS_JSON [--interrupt-cell N --after SECONDS] [--cell-timeout SECONDS]
"""
import json
import sys
import time

from jupyter_client.manager import start_new_kernel


def collect(kc, msg_id, timeout):
    outputs = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            msg = kc.get_iopub_msg(timeout=1)
        except Exception:
            continue
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind = msg["msg_type"]
        if kind == "stream":
            outputs.append({"type": "stream", "name": msg["content"]["name"], "text": msg["content"]["text"]})
        elif kind in ("display_data", "update_display_data", "execute_result"):
            outputs.append({"type": kind, "data": msg["content"].get("data", {})})
        elif kind == "error":
            outputs.append({"type": "error", "ename": msg["content"]["ename"], "evalue": msg["content"]["evalue"]})
        elif kind == "status" and msg["content"]["execution_state"] == "idle":
            return outputs
    raise TimeoutError("no idle status within {}s".format(timeout))


def main():
    kernel, cwd, cells = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    interrupt_cell, after, cell_timeout = -1, 0.0, 300
    if "--cell-timeout" in sys.argv:
        cell_timeout = float(sys.argv[sys.argv.index("--cell-timeout") + 1])
    if "--interrupt-cell" in sys.argv:
        interrupt_cell = int(sys.argv[sys.argv.index("--interrupt-cell") + 1])
        after = float(sys.argv[sys.argv.index("--after") + 1])
    km, kc = start_new_kernel(kernel_name=kernel, cwd=cwd, startup_timeout=120)
    results = []
    try:
        for index, code in enumerate(cells):
            msg_id = kc.execute(code)
            if index == interrupt_cell:
                time.sleep(after)
                km.interrupt_kernel()
            reply = kc.get_shell_msg(timeout=cell_timeout)
            while reply["parent_header"].get("msg_id") != msg_id:
                reply = kc.get_shell_msg(timeout=cell_timeout)
            outputs = collect(kc, msg_id, 60)
            results.append({"status": reply["content"]["status"], "outputs": outputs})
            if reply["content"]["status"] != "ok":
                # tslab drops requests that arrive within 200 ms of an error (stop-on-error), as notebooks expect.
                time.sleep(0.5)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
