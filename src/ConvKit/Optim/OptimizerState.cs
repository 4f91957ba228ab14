namespace ConvKit.Optim;

/// <summary>
/// What <see cref="Optimizer.StateDict"/> returns and <see cref="Optimizer.LoadStateDict"/> accepts, shaped like
/// PyTorch's <c>{'state': {...}, 'param_groups': [...]}</c>. Plain data (System.Text.Json round-trips it exactly).
/// </summary>
/// <param name="State">Per-parameter state by parameter index over all groups, e.g. "momentum_buffer" (SGD) or
/// "step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq" (Adam, AdamW; step is a 0-dim float32 count, as in PyTorch 1.13).
/// Parameters never stepped have no entry.</param>
/// <param name="ParamGroups">Each group's parameter indices and hyper-parameters.</param>
public sealed record OptimizerState(
    IReadOnlyDictionary<int, IReadOnlyDictionary<string, StateTensor>> State,
    IReadOnlyList<ParamGroupState> ParamGroups);

/// <summary>One parameter group of an <see cref="OptimizerState"/>.</summary>
/// <param name="Params">Indices of the group's parameters over all groups.</param>
/// <param name="HyperParameters">PyTorch's key names ("lr", "initial_lr", "momentum", "dampening", "weight_decay",
/// "nesterov", "beta1", "beta2", "eps", "amsgrad"); booleans as 0/1.</param>
public sealed record ParamGroupState(IReadOnlyList<int> Params, IReadOnlyDictionary<string, double> HyperParameters);

/// <summary>A state tensor: its shape ([] for Adam's step count) and row-major float32 values.</summary>
public sealed record StateTensor(int[] Shape, float[] Data);
