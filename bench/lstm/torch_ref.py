#!/usr/bin/python3
"""bench/lstm/torch_ref.py - the PyTorch reference for allocsim's LSTM.

    torch_ref.py SAMPLES [--embed 16 --hidden 32 --layers 1 --epochs 8
                 --patience 2 --batch 32 --lr 0.01 --seed 1]

SAMPLES is what `allocsim train --export-samples FILE` writes (format in
docs/predictors/lstm.md): every distinct context's word ids, its
allocations per class and whether it is held out ('v') or trained on ('t').
This trains the same architecture on the same split - word embedding, LSTM
(gates i, f, g, o; forget bias 1), the last hidden state, a linear layer,
softmax - with the same loss (cross-entropy against each context's class
counts, a context's allocations weighted by 1/sqrt(its allocations), over
the batch's total weight), Adam (lr 0.01), global-norm clipping at 5,
mini-batches of 32, early stopping on the validation loss, and prints one
JSON object: the held-out allocation-weighted accuracy of the best epoch
and the CPU seconds of training (one thread, as allocsim's trainer).

Debian's python3-torch; used only here, never by the build or the tests.
"""
import argparse, json, math, random, sys, time

import torch


def read(path):
    with open(path) as f:
        if f.readline().split() != ["allocsim-lstm-samples", "1"]:
            sys.exit(f"{path}: not an allocsim-lstm-samples 1 file")
        h = f.readline().split()
        head = {h[i]: int(h[i + 1]) for i in range(0, len(h), 2)}
        rows = []
        for line in f:
            left, right = line.split(":")
            left = left.split()
            rows.append((left[0] == "v", [float(x) for x in left[1:]],
                         [int(x) for x in right.split()]))
    return head, rows


class Net(torch.nn.Module):
    def __init__(self, vocab, embed, hidden, layers, classes):
        super().__init__()
        self.emb = torch.nn.Embedding(vocab, embed)
        self.lstm = torch.nn.LSTM(embed, hidden, layers, batch_first=True)
        with torch.no_grad():
            for l in range(layers):  # forget gate bias 1 (the sum of both)
                getattr(self.lstm, f"bias_ih_l{l}")[hidden:2 * hidden] = 1.0
                getattr(self.lstm, f"bias_hh_l{l}")[hidden:2 * hidden] = 0.0
        self.out = torch.nn.Linear(hidden, classes)

    def forward(self, ids, lens):
        x = self.emb(ids)
        packed = torch.nn.utils.rnn.pack_padded_sequence(
            x, lens, batch_first=True, enforce_sorted=False)
        _, (h, _) = self.lstm(packed)
        return self.out(h[-1])


def batch(rows, idx, T):
    seqs = [rows[i][2][-T:] or [0] for i in idx]
    lens = torch.tensor([len(s) for s in seqs])
    ids = torch.zeros(len(seqs), int(lens.max()), dtype=torch.long)
    for b, s in enumerate(seqs):
        ids[b, :len(s)] = torch.tensor(s)
    counts = torch.tensor([rows[i][1] for i in idx], dtype=torch.float64)
    tot = counts.sum(1, keepdim=True)
    w = counts / tot.clamp(min=1e-300).sqrt()  # allocations x 1/sqrt(n)
    return ids, lens, counts, w


def loss_of(net, rows, idx, T):
    ids, lens, counts, w = batch(rows, idx, T)
    logp = torch.log_softmax(net(ids, lens).double(), 1)
    return -(w * logp).sum() / w.sum(), logp, counts, w


def evaluate(net, rows, valid, T, batch_size, ties_longer=False):
    """The validation loss (weighted as in training) and the allocation-
    weighted accuracy over the held-out contexts. ties_longer: an argmax
    tie goes to the longer class, as in allocsim's trainer."""
    with torch.no_grad():
        lsum = wsum = right = alls = 0.0
        for s in range(0, len(valid), batch_size):
            l, logp, counts, w = loss_of(net, rows, valid[s:s + batch_size], T)
            lsum += float(l) * float(w.sum())
            wsum += float(w.sum())
            if ties_longer:
                pred = logp.shape[1] - 1 - logp.flip(1).argmax(1)
            else:
                pred = logp.argmax(1)
            right += float(counts[torch.arange(len(pred)), pred].sum())
            alls += float(counts.sum())
    return (lsum / wsum if wsum else 0.0), (right / alls if alls else 0.0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("samples")
    for k, v in (("embed", 16), ("hidden", 32), ("layers", 1), ("epochs", 8),
                 ("patience", 2), ("batch", 32), ("seed", 1)):
        ap.add_argument("--" + k, type=int, default=v)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    random.seed(a.seed)
    head, rows = read(a.samples)
    T, C = head["max_tokens"], head["classes"]
    train = [i for i, r in enumerate(rows) if not r[0]]
    valid = [i for i, r in enumerate(rows) if r[0]]
    net = Net(head["vocab"], a.embed, a.hidden, a.layers, C)
    opt = torch.optim.Adam(net.parameters(), lr=a.lr, betas=(0.9, 0.999),
                           eps=1e-8)
    best = (math.inf, None, 0, 0)
    since = 0
    t0 = time.process_time()
    epochs = 0
    for ep in range(1, a.epochs + 1):
        epochs = ep
        random.shuffle(train)
        net.train()
        for s in range(0, len(train), a.batch):
            loss = loss_of(net, rows, train[s:s + a.batch], T)[0]
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
            opt.step()
        net.eval()
        vloss, acc = evaluate(net, rows, valid, T, a.batch)
        if vloss < best[0] - 1e-12:
            best = (vloss, acc, ep, 0)
            since = 0
        else:
            since += 1
        print(f"epoch {ep}: validation loss {vloss:.4f}, accuracy {acc:.4f}",
              file=sys.stderr)
        if since >= a.patience:
            break
    cpu = time.process_time() - t0
    print(json.dumps({"samples": a.samples, "contexts": len(rows),
                      "train_contexts": len(train),
                      "valid_contexts": len(valid), "epochs": epochs,
                      "best_epoch": best[2], "valid_loss": best[0],
                      "valid_acc": best[1], "train_cpu_seconds": cpu,
                      "threads": a.threads, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
