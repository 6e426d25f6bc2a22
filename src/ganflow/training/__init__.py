"""How a GAN trains, one concern a module (the pretrain and train stages depend on this folder):

- ``step``: the ``GAN`` model whose fused ``train_step`` does D's and G's updates, and D's pretrainer;
- ``losses``, ``augment``, ``ema``: the recipe pieces the step calls;
- ``distribute``: strategy slicing, loss scaling, finiteness checks; ``optimizers``: each tutorial's;
- ``loop``: building G and D where they train, ``fit`` with DVCLive logging and samples;
- ``monitor``: quality every ``eval_every`` steps and the best G kept; ``checkpoint``: resuming.
"""
