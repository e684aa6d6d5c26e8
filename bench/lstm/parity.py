#!/usr/bin/python3
"""bench/lstm/parity.py - allocsim's LSTM trainer step for step in PyTorch.

    parity.py SAMPLES [--embed 16 --hidden 32 --epochs 8 --patience 2
              --batch 32 --lr 0.01 --seed 1 --init ours|torch
              --init-seed S --clip 5]

torch_ref.py trains the same architecture with PyTorch's own
initialisation and order. This script removes both differences, so that
what is left is the arithmetic: with `--init ours` it draws the initial
weights exactly as predictors/lstm/train.c does (splitmix64 from the seed,
uniform in +-1/sqrt(H), embedding in +-0.5, forget-gate bias 1, other
biases 0, output bias 0), and every epoch visits the training contexts in
train.c's order (the split's generator continued, a Fisher-Yates shuffle
per epoch), in double precision. It prints one line per epoch (mean
training loss over the batches, validation loss, allocation-weighted
validation accuracy), the same figures `allocsim train` prints on a
terminal, so the two can be compared line by line, and then one JSON
object. `--init torch` keeps PyTorch's own initialisation (and order):
torch_ref.py's run, with the per-epoch lines.

Debian's python3-torch; used only here, never by the build or the tests.
"""
import argparse, json, math, os, sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_ref import Net, evaluate, loss_of, read  # same model, loss, file

M64 = (1 << 64) - 1


class SplitMix:
    """train.c's splitmix64 generator."""

    def __init__(self, s):
        self.s = s & M64

    def next(self):
        self.s = (self.s + 0x9E3779B97F4A7C15) & M64
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        return z ^ (z >> 31)

    def uniform(self):
        return (self.next() >> 11) * (1.0 / 9007199254740992.0)

    def shuffle(self, a):
        for i in range(len(a), 1, -1):
            j = self.next() % i
            a[i - 1], a[j] = a[j], a[i - 1]


def our_init(net, V, E, H, C, seed):
    """as_lstm_net_create: one flat array in the model file's layout
    (embedding V x E; W 4H x (E + H), rows i f g o, input columns first;
    b 4H; W_y C x H; b_y C)."""
    total = V * E + 4 * H * (E + H) + 4 * H + C * H + C
    g = SplitMix(seed)
    a = 1.0 / math.sqrt(H)
    p = [(2 * g.uniform() - 1) * a for _ in range(total)]
    for i in range(V * E):
        p[i] = (2 * g.uniform() - 1) * 0.5
    o = V * E
    W = torch.tensor(p[o:o + 4 * H * (E + H)], dtype=torch.float64)
    W = W.view(4 * H, E + H)
    o += 4 * H * (E + H)
    b = torch.tensor([1.0 if k // H == 1 else 0.0 for k in range(4 * H)],
                     dtype=torch.float64)
    o += 4 * H
    Wy = torch.tensor(p[o:o + C * H], dtype=torch.float64).view(C, H)
    with torch.no_grad():
        net.emb.weight.copy_(
            torch.tensor(p[:V * E], dtype=torch.float64).view(V, E))
        net.lstm.weight_ih_l0.copy_(W[:, :E])
        net.lstm.weight_hh_l0.copy_(W[:, E:])
        net.lstm.bias_ih_l0.copy_(b)
        net.lstm.bias_hh_l0.zero_()
        net.out.weight.copy_(Wy)
        net.out.bias.zero_()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("samples")
    for k, v in (("embed", 16), ("hidden", 32), ("epochs", 8),
                 ("patience", 2), ("batch", 32), ("seed", 1)):
        ap.add_argument("--" + k, type=int, default=v)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--clip", type=float, default=5.0)
    ap.add_argument("--init", choices=("ours", "torch"), default="ours")
    ap.add_argument("--init-seed", type=int, default=None,
                    help="with --init ours: draw the weights and the epochs' "
                    "order from this seed instead (the split stays the "
                    "file's): train.c's arithmetic from another start")
    a = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(a.seed)
    dtype = torch.float64
    head, rows = read(a.samples)
    T, C, V = head["max_tokens"], head["classes"], head["vocab"]
    n = len(rows)
    # train.c's split: order = shuffle(0..n) from seed ^ 0x5eed0f1a57; the
    # first nv are held out (the file marks the same ones); the generator
    # then draws each epoch's order of the rest
    g = SplitMix(a.seed ^ 0x5EED0F1A57)
    order = list(range(n))
    g.shuffle(order)
    nv = head["valid"]
    valid, train = order[:nv], order[nv:]
    if sorted(valid) != [i for i, r in enumerate(rows) if r[0]]:
        sys.exit("the file's split is not train.c's for this seed")
    net = Net(V, a.embed, a.hidden, 1, C).to(dtype)
    if a.init_seed is not None:  # the epochs' order from the other seed
        g = SplitMix(a.init_seed ^ 0x5EED0F1A57)
        g.shuffle(list(range(n)))
    if a.init == "ours":
        our_init(net, V, a.embed, a.hidden, C,
                 a.seed if a.init_seed is None else a.init_seed)
        # train.c has one bias vector per layer; PyTorch's LSTM has two
        # (b_ih + b_hh), each moved by Adam and counted by the clip: keep
        # b_hh at zero so that the parameters are the same
        net.lstm.bias_hh_l0.requires_grad_(False)
    params = [p for p in net.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=a.lr, betas=(0.9, 0.999), eps=1e-8)
    best = (math.inf, None, 0)
    since = 0
    perm = list(train)
    epochs = []
    for ep in range(1, a.epochs + 1):
        if a.init == "ours":
            g.shuffle(perm)
        else:
            perm = perm[:]
            torch_perm = torch.randperm(len(perm)).tolist()
            perm = [perm[i] for i in torch_perm]
        lsum, nb = 0.0, 0
        for s in range(0, len(perm), a.batch):
            loss = loss_of(net, rows, perm[s:s + a.batch], T)[0]
            opt.zero_grad()
            loss.backward()
            if a.clip > 0:
                torch.nn.utils.clip_grad_norm_(params, a.clip)
            opt.step()
            lsum += float(loss)
            nb += 1
        vloss, acc = evaluate(net, rows, valid, T, a.batch, ties_longer=True)
        mark = ""
        if vloss < best[0] - 1e-12:
            best, since, mark = (vloss, acc, ep), 0, "  (best)"
        else:
            since += 1
        epochs.append({"epoch": ep, "train_loss": lsum / nb,
                       "valid_loss": vloss, "valid_acc": acc})
        print(f"epoch {ep}/{a.epochs}  loss {lsum / nb:.4f}  validation loss "
              f"{vloss:.4f}  accuracy {acc:.4f}{mark}")
        if since >= a.patience:
            break
    print(json.dumps({"samples": a.samples, "init": a.init,
                      "init_seed": a.init_seed,
                      "best_epoch": best[2], "valid_loss": best[0],
                      "valid_acc": best[1], "epochs": epochs}))


if __name__ == "__main__":
    main()
