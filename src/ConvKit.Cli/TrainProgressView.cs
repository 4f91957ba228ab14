using ConvKit.Vision.Training;
using Spectre.Console;

namespace ConvKit.Cli;

/// <summary>
/// Training progress on the console: a Spectre.Console bar per epoch with loss, images/s and the run's ETA on an
/// interactive terminal; plain lines about every tenth of an epoch when output is redirected (logs, CI).
/// </summary>
internal sealed class TrainProgressView
{
    private readonly ProgressContext? _ctx;
    private ProgressTask? _task;
    private int _lastPrinted = -1;

    private TrainProgressView(ProgressContext? ctx) => _ctx = ctx;

    /// <summary>Runs <paramref name="body"/> with a view bound to the console for its duration.</summary>
    public static T Run<T>(Func<TrainProgressView, T> body)
    {
        if (!AnsiConsole.Profile.Capabilities.Interactive || Console.IsOutputRedirected) return body(new TrainProgressView(null));
        T result = default!;
        AnsiConsole.Progress().AutoClear(false).HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new SpinnerColumn())
            .Start(ctx => result = body(new TrainProgressView(ctx)));
        return result;
    }

    public void Step(TrainProgress p)
    {
        string text = $"epoch {p.Epoch}/{p.Epochs}  step {p.Step}/{p.Steps}  loss {p.Loss:F4}  {p.ImagesPerSecond:F0} img/s  ETA {p.Eta:m\\:ss}";
        if (_ctx is null)
        {
            int tenth = p.Step * 10 / Math.Max(1, p.Steps);
            if (tenth != _lastPrinted || p.Step == 1) Console.WriteLine(text);
            _lastPrinted = tenth;
            return;
        }
        if (_task is null || p.Step == 1) _task = _ctx.AddTask(Markup.Escape(text), maxValue: p.Steps);
        _task.Description = Markup.Escape(text);
        _task.Value = p.Step;
    }

    public void Epoch(EpochReport r)
    {
        string line = $"epoch {r.Epoch}: {r.Seconds:F1} s ({r.ImagesPerSecond:F0} img/s), loss {r.TrainLoss:F4}, " + string.Join(", ", r.Metrics.Select(m => $"{m.Key} {m.Value:F4}"));
        if (_ctx is null) Console.WriteLine(line);
        else AnsiConsole.MarkupLine(Markup.Escape(line));
        _lastPrinted = -1;
    }
}
