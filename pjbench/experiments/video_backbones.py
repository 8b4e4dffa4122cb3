"""The PISA papers' backbones, written compactly with torchvision's parameter names (so torchvision or
converted checkpoints load from a local file) without depending on torchvision, whose wheels pull a CUDA torch.

- ``c3d-small``: the PISA paper's small 3D CNN: C64, MaxP, C128, MaxP, C256, MaxP, C256, MaxP, C256, MaxP
  (3x3x3 convolutions with ReLU; the first pooling keeps time), global average -> 256-d per clip.
- ``r3d18``: ResNet18-3D (torchvision ``r3d_18``: a (3,7,7) stem, four stages of basic blocks of 3x3x3
  convolutions, batch norm) -> 512-d per clip; Kinetics input normalisation.
- ``resnet18``: the audio branch, ResNet-18 with a one-channel first convolution -> 512-d per mel image.

``width`` scales every channel count (64 = the published size); smaller widths give the same architecture
for CPU tests and demos, but only width 64 loads published weights.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from torch import nn

log = logging.getLogger(__name__)

KINETICS_MEAN = (0.43216, 0.394666, 0.37645)
KINETICS_STD = (0.22803, 0.22145, 0.216989)


def init_like_torchvision(model: nn.Module) -> None:
    """He initialisation for ReLU networks as torchvision's ResNets do it (normal, fan-out), biases 0, batch norm
    1/0. PyTorch's default convolution init shrinks a ReLU signal by about 0.4 per layer, so a randomly initialised
    5-layer C3D gives features of scale 1e-3 and hardly trains from scratch."""
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Conv3d)):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.BatchNorm3d)):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


class SmallC3D(nn.Module):
    def __init__(self, width: int = 64) -> None:
        super().__init__()
        c = [width, 2 * width, 4 * width, 4 * width, 4 * width]
        layers: list[nn.Module] = []
        in_ch = 3
        for i, out_ch in enumerate(c):
            layers += [nn.Conv3d(in_ch, out_ch, 3, padding=1), nn.ReLU(inplace=True)]
            layers.append(nn.MaxPool3d((1, 2, 2) if i == 0 else (2, 2, 2), ceil_mode=True))
            in_ch = out_ch
        self.features = nn.Sequential(*layers)
        self.out_dim = self.feature_dim(width)
        init_like_torchvision(self)

    @staticmethod
    def feature_dim(width: int) -> int:
        return 4 * width

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        """(N, 3, T, H, W) -> (N, out_dim)"""
        return self.features(clips).mean(dim=(2, 3, 4))


def _bn(dims: int, ch: int) -> nn.Module:
    return nn.BatchNorm3d(ch) if dims == 3 else nn.BatchNorm2d(ch)


def _conv(dims: int, in_ch: int, out_ch: int, kernel: int, stride: int) -> nn.Module:
    cls = nn.Conv3d if dims == 3 else nn.Conv2d
    return cls(in_ch, out_ch, kernel, stride=stride, padding=kernel // 2, bias=False)


class BasicBlock3D(nn.Module):
    """torchvision.models.video.resnet.BasicBlock with Conv3DSimple: conv1 = (conv, bn, relu), conv2 = (conv, bn)."""

    def __init__(self, in_ch: int, out_ch: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Sequential(_conv(3, in_ch, out_ch, 3, stride), _bn(3, out_ch), nn.ReLU(inplace=True))
        self.conv2 = nn.Sequential(_conv(3, out_ch, out_ch, 3, 1), _bn(3, out_ch))
        self.downsample = (
            nn.Sequential(nn.Conv3d(in_ch, out_ch, 1, stride=stride, bias=False), _bn(3, out_ch))
            if stride != 1 or in_ch != out_ch
            else None
        )
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(self.conv2(self.conv1(x)) + identity)


class BasicBlock2D(nn.Module):
    """torchvision.models.resnet.BasicBlock: conv1, bn1, relu, conv2, bn2, downsample."""

    def __init__(self, in_ch: int, out_ch: int, stride: int) -> None:
        super().__init__()
        self.conv1, self.bn1 = _conv(2, in_ch, out_ch, 3, stride), _bn(2, out_ch)
        self.conv2, self.bn2 = _conv(2, out_ch, out_ch, 3, 1), _bn(2, out_ch)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = (
            nn.Sequential(nn.Conv2d(in_ch, out_ch, 1, stride=stride, bias=False), _bn(2, out_ch))
            if stride != 1 or in_ch != out_ch
            else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + identity)


def _stages(block: type[nn.Module], width: int) -> tuple[nn.Module, nn.Module, nn.Module, nn.Module]:
    chans = [width, 2 * width, 4 * width, 8 * width]
    stages, in_ch = [], width
    for i, ch in enumerate(chans):
        stride = 1 if i == 0 else 2
        stages.append(nn.Sequential(block(in_ch, ch, stride), block(ch, ch, 1)))
        in_ch = ch
    return stages[0], stages[1], stages[2], stages[3]


class R3D18(nn.Module):
    def __init__(self, width: int = 64) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv3d(3, width, (3, 7, 7), stride=(1, 2, 2), padding=(1, 3, 3), bias=False), _bn(3, width), nn.ReLU(inplace=True)
        )
        self.layer1, self.layer2, self.layer3, self.layer4 = _stages(BasicBlock3D, width)
        self.out_dim = self.feature_dim(width)
        init_like_torchvision(self)

    @staticmethod
    def feature_dim(width: int) -> int:
        return 8 * width

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        x = self.layer4(self.layer3(self.layer2(self.layer1(self.stem(clips)))))
        return x.mean(dim=(2, 3, 4))


class ResNet18Audio(nn.Module):
    def __init__(self, width: int = 64) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, width, 7, stride=2, padding=3, bias=False)
        self.bn1 = _bn(2, width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.layer1, self.layer2, self.layer3, self.layer4 = _stages(BasicBlock2D, width)
        self.out_dim = self.feature_dim(width)
        init_like_torchvision(self)

    @staticmethod
    def feature_dim(width: int) -> int:
        return 8 * width

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """(N, 1, 224, 224) -> (N, out_dim)"""
        x = self.maxpool(self.relu(self.bn1(self.conv1(images))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x)))).mean(dim=(2, 3))


VIDEO_BACKBONES: dict[str, type[SmallC3D] | type[R3D18]] = {"c3d-small": SmallC3D, "r3d18": R3D18}
AUDIO_BACKBONES: dict[str, type[ResNet18Audio]] = {"resnet18": ResNet18Audio}


def load_backbone_weights(model: nn.Module, path: Path) -> list[str]:
    """Load a local checkpoint (a state dict, or a dict holding one under ``state_dict``/``model``), in
    torchvision's names; a 3-channel first convolution is summed to the audio branch's one channel (a grey
    image repeated on three channels gives the same response); the classifier ``fc`` is not used. Returns
    the keys left at their initial values."""
    from ..encoders.checkpoints import CheckpointError

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"backbone weights {path} not found")
    blob = torch.load(path, map_location="cpu", weights_only=True)
    state = blob.get("state_dict", blob.get("model", blob)) if isinstance(blob, dict) else None
    if not isinstance(state, dict):
        raise CheckpointError(f"{path}: not a state dict")
    state = {k.removeprefix("module."): v for k, v in state.items() if not k.removeprefix("module.").startswith("fc.")}
    own = model.state_dict()
    if "conv1.weight" in state and "conv1.weight" in own and state["conv1.weight"].shape[1] == 3 and own["conv1.weight"].shape[1] == 1:
        state["conv1.weight"] = state["conv1.weight"].sum(dim=1, keepdim=True)
    wrong = [k for k in state if k in own and state[k].shape != own[k].shape]
    if wrong:
        raise CheckpointError(f"{path}: shapes differ for {wrong[:5]} (a different width or architecture?)")
    unknown = [k for k in state if k not in own]
    if unknown:
        raise CheckpointError(f"{path}: keys not in the {type(model).__name__} backbone: {unknown[:5]}")
    model.load_state_dict(state, strict=False)
    missing = [k for k in own if k not in state]
    if missing:
        log.warning(
            "%s: %d backbone tensors not in the checkpoint, left at their initial values (e.g. %s)", path, len(missing), missing[:3]
        )
    return missing
