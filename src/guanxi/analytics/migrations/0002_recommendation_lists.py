"""Recommendation lists shared by the customers who bought the same products in the same segment: a list
is stored once under a key, and each customer's metrics name their list. The stored recommendations are
derived data: they are dropped here and the next refresh writes them again."""

from django.db import migrations, models


def drop_recommendations(apps, schema_editor):
    apps.get_model("analytics", "ProductRecommendation").objects.all().delete()


class Migration(migrations.Migration):

    dependencies = [
        ("analytics", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(drop_recommendations, migrations.RunPython.noop),
        migrations.RemoveConstraint(
            model_name="productrecommendation",
            name="recommendation_customer_rank_unique",
        ),
        migrations.RemoveField(
            model_name="productrecommendation",
            name="customer",
        ),
        migrations.AddField(
            model_name="productrecommendation",
            name="key",
            field=models.PositiveIntegerField(default=0, verbose_name="list"),
            preserve_default=False,
        ),
        migrations.AlterModelOptions(
            name="productrecommendation",
            options={"ordering": ["key", "rank"], "verbose_name": "recommendation", "verbose_name_plural": "recommendations"},
        ),
        migrations.AddConstraint(
            model_name="productrecommendation",
            constraint=models.UniqueConstraint(fields=("key", "rank"), name="recommendation_key_rank_unique"),
        ),
        migrations.AlterField(
            model_name="productrecommendation",
            name="reason",
            field=models.CharField(
                choices=[
                    ("together", "Often bought with what the customer bought"),
                    ("popular", "Popular with customers like this one"),
                ],
                max_length=10,
                verbose_name="reason",
            ),
        ),
        migrations.AddField(
            model_name="customermetrics",
            name="recommendation_key",
            field=models.PositiveIntegerField(blank=True, null=True, verbose_name="recommendation list"),
        ),
    ]
