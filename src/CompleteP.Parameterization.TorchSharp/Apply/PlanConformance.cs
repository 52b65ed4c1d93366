using CompleteP.Discovery;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CompleteP;

/// <summary>
/// Checks that a model, its optimizer and the plan Apply returned still belong together: the model has exactly the plan's
/// tensors (names and shapes), none of them disposed, and the optimizer trains every trainable one of them and nothing
/// else. What breaks it: a module replaced or added after Apply, and <c>model.to(dtype)</c> or a move to another device after
/// the optimizer was built (TorchSharp replaces every parameter and disposes the old ones, which the optimizer still holds).
/// </summary>
internal static class PlanConformance
{
    public static void Check(nn.Module model, optim.Optimizer? optimizer, ParameterizationPlan plan)
    {
        var tree = ModuleTree.Of(model);
        var problems = new List<string>();
        var named = new Dictionary<string, Parameter>(StringComparer.Ordinal);
        foreach (var p in tree.Parameters)
        {
            named.TryAdd(p.Name, (Parameter)p.Tensor);
        }

        var rows = new Dictionary<string, PlanRow>(StringComparer.Ordinal);
        foreach (var row in plan.Rows)
        {
            foreach (var name in row.SharedWith.Prepend(row.Name))
            {
                rows.TryAdd(name, row);
            }
        }

        foreach (var (name, p) in named)
        {
            if (p.IsInvalid)
            {
                problems.Add($"'{name}' is a disposed tensor");
            }
            else if (!rows.TryGetValue(name, out var row))
            {
                problems.Add($"'{name}' [{Listing.Shape(p.shape)}] is not in the plan (added or renamed after Apply)");
            }
            else if (!row.Shape.SequenceEqual(p.shape))
            {
                problems.Add($"'{name}' is [{Listing.Shape(p.shape)}] in the model but [{Listing.Shape(row.Shape)}] in the plan");
            }
        }

        problems.AddRange(rows.Keys.Where(n => !named.ContainsKey(n)).Select(n => $"the plan's '{n}' is not in the model"));
        if (problems.Count == 0 && optimizer is not null)
        {
            var all = optimizer.parameters().ToList();
            var held = all.Where(p => !p.IsInvalid).ToList();
            if (held.Count < all.Count)
            {
                problems.Add($"the optimizer holds {all.Count - held.Count} disposed tensor(s): parameters were replaced after the optimizer was built " +
                             "(model.to(...) with another dtype or device replaces and disposes every parameter; assigning a module's weight replaces that one)");
            }

            var unique = named.GroupBy(n => rows[n.Key]).Select(g => g.First()).ToList();
            var canonical = TensorIdentity.Canonical(unique.Select(u => (Tensor)u.Value).Concat(held).ToList());
            var trained = new HashSet<int>(held.Select((_, i) => canonical[unique.Count + i]));
            problems.AddRange(unique.Where((u, i) => u.Value.requires_grad && !trained.Contains(canonical[i]))
                .Select(u => $"'{u.Key}' is not a tensor the optimizer trains (it was replaced after Apply, or the optimizer was built from another model)"));
            int foreign = held.Select((_, i) => canonical[unique.Count + i]).Count(c => c >= unique.Count);
            if (foreign > 0)
            {
                problems.Add($"the optimizer trains {foreign} tensor(s) that are not in the model (replaced modules' old parameters)");
            }
        }

        if (problems.Count > 0)
        {
            throw new ArgumentException(
                $"The model no longer matches its plan{(optimizer is null ? string.Empty : " and optimizer")}: {string.Join("; ", problems.Take(8))}{(problems.Count > 8 ? $"; and {problems.Count - 8} more" : string.Empty)}. " +
                "Change the model (modules, dtype with model.to(...), device) before building its optimizer and calling Parameterize.Apply; after a change, build a fresh model, " +
                "or load a checkpoint into one (ParameterizedCheckpoint.Load), and parameterize that.",
                nameof(model));
        }
    }
}
