using PerkSharp.IO;
using PerkSharp.Runtime;
using PerkSharp.Training;

namespace PerkSharp.Tests.Training;

/// <summary>The shipped base model (models/tiny-qa1) and how a run takes a ready base instead of pretraining.</summary>
[Collection(SerialCollection.Name)]
public sealed class ShippedBaseTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "perk-shipped-" + Guid.NewGuid().ToString("N")[..8]);

    public ShippedBaseTests() { TorchRuntime.Initialize(); Directory.CreateDirectory(_dir); }

    public void Dispose() { try { Directory.Delete(_dir, true); } catch (IOException) { } }

    [Fact]
    public void The_shipped_base_is_in_the_build_and_its_recipe_is_what_perk_pretrain_runs_by_default()
    {
        string? shipped = BaseModel.Shipped();
        Assert.NotNull(shipped);
        // A change of the pretraining defaults without re-shipping the model would make `perk pretrain` (and
        // `quickstart --pretrain`) build a different base than the one the quickstart uses.
        Assert.Equal(BaseModel.Recipe(new PretrainOptions(), new QuickstartOptions().MaxVocab),
                     File.ReadAllText(Path.Combine(shipped!, BaseModel.RecipeFile)));
        using var bm = BaseModel.Load(shipped!);
        Assert.Equal("gpt2", bm.Model.Config.ModelType);
        Assert.Equal(new PretrainOptions().Layers, bm.Model.Config.NumHiddenLayers);
        Assert.True(new FileInfo(Path.Combine(shipped!, "model.safetensors")).Length < 16L << 20);
    }

    [Fact]
    public void CopyFrom_copies_a_model_into_the_run_once_and_refuses_what_is_not_a_model()
    {
        string run = Path.Combine(_dir, "run", "base");
        using (var bm = BaseModel.CopyFrom(BaseModel.Shipped()!, run))
            Assert.Equal(File.ReadAllBytes(Path.Combine(BaseModel.Shipped()!, "model.safetensors")), File.ReadAllBytes(Path.Combine(run, "model.safetensors")));
        var stamp = File.GetLastWriteTimeUtc(Path.Combine(run, "model.safetensors"));
        File.SetLastWriteTimeUtc(Path.Combine(run, "model.safetensors"), stamp.AddMinutes(-5));
        using (BaseModel.CopyFrom(BaseModel.Shipped()!, run)) { }                        // same bytes: left alone
        Assert.Equal(stamp.AddMinutes(-5), File.GetLastWriteTimeUtc(Path.Combine(run, "model.safetensors")));

        string notModel = Path.Combine(_dir, "empty");
        Directory.CreateDirectory(notModel);
        Assert.Contains("not a model folder", Assert.Throws<PerkException>(() => BaseModel.CopyFrom(notModel, Path.Combine(_dir, "x"))).Message);

        string foreign = Path.Combine(_dir, "foreign");
        Directory.CreateDirectory(foreign);
        File.WriteAllText(Path.Combine(foreign, "notes.txt"), "mine");
        Assert.Throws<PerkException>(() => BaseModel.CopyFrom(BaseModel.Shipped()!, foreign));
        Assert.Equal("mine", File.ReadAllText(Path.Combine(foreign, "notes.txt")));
    }
}
